"""Every edit shape perf_fix writes: a module's source in, the exact source out."""

from __future__ import annotations

import textwrap

import pytest

from perftoolkit.fix.edit import AlreadyThere, Placement, apply_fix
from perftoolkit.fix.locate import Unplaceable

BOOK = Placement(
    frozenset({"Book"}), {"Tag": "shop.models", "Review": "shop.models", "Chapter": "shop.models"}
)


def fixed(source: str, line: int, code: str, placement: Placement = BOOK) -> str:
    return apply_fix(textwrap.dedent(source), line, code, placement)


def test_select_related_appended_to_a_returned_chain() -> None:
    source = """\
        from shop.models import Book


        def books():
            return Book.objects.filter(published=True)  # the list
        """
    assert fixed(source, 5, '.select_related("author__user")') == textwrap.dedent("""\
        from shop.models import Book


        def books():
            return Book.objects.filter(published=True).select_related("author__user")  # the list
        """)


def test_select_related_merged_longer_path_replaces_shorter() -> None:
    source = """\
        rows = Book.objects.select_related("author", "publisher").order_by("id")
        """
    assert fixed(source, 1, '.select_related("author__user")') == (
        'rows = Book.objects.select_related("author__user", "publisher").order_by("id")\n'
    )


def test_select_related_already_loaded_is_already_there() -> None:
    with pytest.raises(AlreadyThere):
        fixed(
            'rows = Book.objects.select_related("author__user")\n', 1, '.select_related("author")'
        )


def test_prefetch_related_added_to_existing_call_one_per_line() -> None:
    source = """\
        rows = Book.objects.prefetch_related(
            "tags",
            "reviews",
        )
        """
    assert fixed(source, 1, '.prefetch_related("authors")') == textwrap.dedent("""\
        rows = Book.objects.prefetch_related(
            "tags",
            "reviews",
            "authors",
        )
        """)


def test_multi_line_chain_gets_the_new_call_on_its_own_line() -> None:
    source = """\
        rows = (
            Book.objects.filter(published=True)
            .order_by("-id")  # newest first
        )
        """
    assert fixed(source, 1, '.prefetch_related("tags")') == textwrap.dedent("""\
        rows = (
            Book.objects.filter(published=True)
            .order_by("-id")  # newest first
            .prefetch_related("tags")
        )
        """)


def test_prefetch_object_imports_prefetch_and_its_model_once() -> None:
    source = """\
        from django.db.models import Count

        from shop.models import Book


        def books():
            return Book.objects.all()
        """
    code = '.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="ordered_tags"))'
    assert fixed(source, 7, code) == textwrap.dedent("""\
        from django.db.models import Count, Prefetch

        from shop.models import Book, Tag


        def books():
            return Book.objects.all().prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="ordered_tags"))
        """)


def test_nested_prefetches_of_one_relation_merge_their_querysets() -> None:
    source = """\
        from django.db.models import Count, Prefetch, Sum

        rows = Book.objects.prefetch_related(Prefetch("chapters", queryset=Chapter.objects.annotate(pages=Count("pages")).order_by("number")))
        """
    code = '.prefetch_related(Prefetch("chapters", queryset=Chapter.objects.annotate(words=Sum("pages__words")).order_by("number")))'
    assert fixed(source, 3, code).splitlines()[-1] == (
        'rows = Book.objects.prefetch_related(Prefetch("chapters", queryset=Chapter.objects'
        '.annotate(pages=Count("pages"), words=Sum("pages__words")).order_by("number")))'
    )


def test_prefetch_object_replaces_the_plain_lookup_it_extends() -> None:
    source = 'rows = Book.objects.prefetch_related("chapters", "chapters__pages")\n'
    code = '.prefetch_related(Prefetch("chapters", queryset=Chapter.objects.annotate(n=Count("pages"))))'
    placement = Placement(frozenset({"Book"}), {"Chapter": "shop.models"})
    assert fixed(source, 1, code, placement) == (
        "from django.db.models import Count, Prefetch\n"
        "from shop.models import Chapter\n"
        'rows = Book.objects.prefetch_related(Prefetch("chapters", queryset=Chapter.objects'
        '.annotate(n=Count("pages"))), "chapters__pages")\n'
    )


def test_annotate_counts_over_two_relations_get_distinct() -> None:
    source = 'from django.db.models import Count\nrows = Book.objects.annotate(tag_count=Count("tags"))\n'
    assert fixed(source, 2, '.annotate(review_count=Count("reviews"))') == (
        "from django.db.models import Count\n"
        'rows = Book.objects.annotate(tag_count=Count("tags", distinct=True), '
        'review_count=Count("reviews", distinct=True))\n'
    )


def test_annotate_sum_beside_another_relation_is_refused() -> None:
    source = 'rows = Book.objects.annotate(tag_count=Count("tags"))\n'
    with pytest.raises(Unplaceable, match="Sum over reviews beside aggregates over tags"):
        fixed(source, 1, '.annotate(stars=Sum("reviews__stars"))')


def test_annotate_after_a_filter_goes_last_and_ordering_is_restated() -> None:
    source = 'rows = Book.objects.annotate(n=Count("tags")).filter(n__gt=1)\n'
    assert fixed(source, 1, '.annotate(m=Count("tags__books")).order_by("title")') == (
        "from django.db.models import Count\n"
        'rows = Book.objects.annotate(n=Count("tags")).filter(n__gt=1)'
        '.annotate(m=Count("tags__books")).order_by("title")\n'
    )


def test_restated_ordering_dropped_when_the_chain_orders() -> None:
    source = 'from django.db.models import Count\nrows = Book.objects.order_by("-id")\n'
    assert fixed(source, 2, '.annotate(n=Count("tags")).order_by("title")') == (
        "from django.db.models import Count\n"
        'rows = Book.objects.order_by("-id").annotate(n=Count("tags"))\n'
    )


def test_exists_with_outer_ref_imports_what_it_names() -> None:
    source = '"""Views."""\n\nrows = Book.objects.all()\n'
    code = '.annotate(has_review=Exists(Review.objects.filter(book=OuterRef("pk"))))'
    assert fixed(source, 3, code) == (
        '"""Views."""\n'
        "from django.db.models import Exists, OuterRef\n"
        "from shop.models import Review\n"
        "\n"
        'rows = Book.objects.all().annotate(has_review=Exists(Review.objects.filter(book=OuterRef("pk"))))\n'
    )


def test_queryset_class_attribute() -> None:
    source = """\
        class BookList(ListView):
            queryset = Book.objects.filter(published=True)
            paginate_by = 20
        """
    assert fixed(source, 2, '.select_related("author")') == textwrap.dedent("""\
        class BookList(ListView):
            queryset = Book.objects.filter(published=True).select_related("author")
            paginate_by = 20
        """)


def test_get_queryset_every_branch_returning_the_model() -> None:
    source = """\
        class Books(ListAPIView):
            def get_queryset(self):
                if self.request.user.is_staff:
                    return Book.objects.all()
                if not self.request.user.is_authenticated:
                    return Book.objects.none()
                books = Book.objects.filter(published=True)
                if self.request.GET.get("q"):
                    books = books.filter(title__icontains=self.request.GET["q"])
                return books
        """
    assert fixed(source, 10, '.select_related("author")') == textwrap.dedent("""\
        class Books(ListAPIView):
            def get_queryset(self):
                if self.request.user.is_staff:
                    return Book.objects.all().select_related("author")
                if not self.request.user.is_authenticated:
                    return Book.objects.none()
                books = Book.objects.filter(published=True).select_related("author")
                if self.request.GET.get("q"):
                    books = books.filter(title__icontains=self.request.GET["q"])
                return books
        """)


def test_variable_built_by_a_function_and_sliced_in_a_render_call() -> None:
    source = """\
        def catalog(request):
            books = published_books()
            return render(request, "catalog.html", {"books": books[:20]})
        """
    assert fixed(source, 3, '.select_related("author")') == textwrap.dedent("""\
        def catalog(request):
            books = published_books().select_related("author")
            return render(request, "catalog.html", {"books": books[:20]})
        """)


def test_for_loop_over_a_chain_ending_in_a_terminal_call() -> None:
    source = """\
        def first_titles():
            for book in Book.objects.order_by("id")[:10]:
                print(book.author.name)
        """
    assert fixed(source, 2, '.select_related("author")').splitlines()[1] == (
        '    for book in Book.objects.order_by("id").select_related("author")[:10]:'
    )


def test_request_user_of_the_per_row_code_written_as_the_views() -> None:
    source = """\
        class Books(ListAPIView):
            def get_queryset(self):
                return Book.objects.all()
        """
    code = '.annotate(is_fan=Exists(Fan.objects.filter(book=OuterRef("pk"), user=user)))'
    placement = Placement(
        frozenset({"Book"}), {"Fan": "shop.models"}, {"user": "self.request.user.pk"}
    )
    assert fixed(source, 3, code, placement).splitlines()[-1] == (
        "        return Book.objects.all().annotate(is_fan=Exists(Fan.objects.filter("
        'book=OuterRef("pk"), user=self.request.user.pk)))'
    )


@pytest.mark.parametrize(
    ("source", "line", "code", "reason"),
    [
        ("def f(:\n", 1, '.select_related("a")', "cannot be parsed"),
        ("x = 1\n", 1, '.select_related("a")', "no queryset of Book"),
        ("rows = Author.objects.all()\n", 1, '.select_related("a")', "only querysets of Author"),
        (
            "rows = Book.objects.values('id')\n",
            1,
            '.select_related("a")',
            "values()/values_list()",
        ),
        ("rows = Book.objects.all()\n", 1, "compute it once", "not queryset code"),
        (
            "rows = Book.objects.all()\n",
            1,
            ".annotate(x=Exists(Fan.objects.filter(user=user)))",
            "uses user",
        ),
        (
            "rows = Book.objects.select_related()\n",
            1,
            '.select_related("a")',
            "without fields",
        ),
        (
            "def f():\n    return pair(Book.objects.all(), Book.objects.filter(x=1))\n",
            2,
            '.select_related("a")',
            "several querysets",
        ),
        (
            "def f(request):\n"
            "    comments = Comment.objects.all()\n"
            "    fans = Fan.objects.all()\n"
            '    return render(request, "t.html", {"comments": comments, "fans": fans})\n',
            4,
            '.select_related("a")',
            "no queryset of Book is built on this line (it uses querysets of Comment, Fan)",
        ),
    ],
)
def test_unplaceable_says_why(source: str, line: int, code: str, reason: str) -> None:
    placement = Placement(frozenset({"Book"}), {"Fan": "shop.models"})
    with pytest.raises(Unplaceable, match=reason.replace("(", r"\(").replace(")", r"\)")):
        apply_fix(source, line, code, placement)


# Rows loaded through the origin's own prefetch: the finding is about Item rows (a plan's meals'
# items), the origin builds Plan rows.
THROUGH = Placement(
    frozenset({"Item"}),
    routes={
        "Plan": (("meal_set__item_set", True), ("log_set", True)),
        "Meal": (("item_set", True),),
        "Unit": (("items", True),),
    },
)


def test_fix_for_rows_reached_through_a_loaded_prefetch_gets_its_path() -> None:
    source = """\
        def get_queryset(self):
            return Plan.objects.filter(user=self.request.user).prefetch_related("meal_set__item_set")
        """
    assert fixed(source, 2, '.select_related("ingredient")', THROUGH) == textwrap.dedent("""\
        def get_queryset(self):
            return Plan.objects.filter(user=self.request.user).prefetch_related("meal_set__item_set__ingredient")
        """)


def test_fix_through_a_forward_path_keeps_select_related() -> None:
    placement = Placement(frozenset({"Author"}), routes={"Book": (("author", False),)})
    source = 'rows = Book.objects.select_related("author")\n'
    assert fixed(source, 1, '.select_related("user")', placement) == (
        'rows = Book.objects.select_related("author__user")\n'
    )


@pytest.mark.parametrize(
    "source",
    [
        # no eager load of the origin's queryset reaches the rows: nothing says which path
        "rows = Plan.objects.filter(user=1)\n",
        # two loaded paths reach them
        'rows = Plan.objects.prefetch_related("meal_set__item_set", "log_set")\n',
    ],
)
def test_fix_through_no_or_several_loaded_paths_is_refused(source: str) -> None:
    with pytest.raises(Unplaceable, match="no queryset of Item is built on this line"):
        fixed(source, 1, '.select_related("ingredient")', THROUGH)


def test_a_prefetch_object_through_a_loaded_path_gets_the_path_in_its_lookup() -> None:
    """A nested prefetch for a topic's private rows, the topic loaded by a select_related of
    another model's queryset, named on a render line beside a queryset of comments."""
    placement = Placement(
        frozenset({"Topic"}),
        {"TopicPrivate": "forum.models"},
        routes={"TopicPrivate": (("topic", False),), "Comment": (("topic", False),)},
    )
    source = """\
        def detail(request, pk):
            private = get_object_or_404(TopicPrivate.objects.select_related("topic"), pk=pk)
            comments = Comment.objects.filter(topic=private.topic_id)
            return render(request, "t.html", {"private": private, "comments": comments})
        """
    code = (
        '.prefetch_related(Prefetch("topics_private", '
        'queryset=TopicPrivate.objects.select_related("user")))'
    )
    edited = fixed(source, 4, code, placement).splitlines()
    assert edited[:2] == [
        "from django.db.models import Prefetch",
        "from forum.models import TopicPrivate",
    ]
    assert edited[3:] == [
        '    private = get_object_or_404(TopicPrivate.objects.select_related("topic").prefetch_'
        'related(Prefetch("topic__topics_private", queryset=TopicPrivate.objects.select_related('
        '"user"))), pk=pk)',
        "    comments = Comment.objects.filter(topic=private.topic_id)",
        '    return render(request, "t.html", {"private": private, "comments": comments})',
    ]


def test_fix_through_a_path_refuses_an_annotation() -> None:
    source = 'rows = Plan.objects.prefetch_related("meal_set__item_set")\n'
    with pytest.raises(Unplaceable, match="no queryset of Item"):
        fixed(source, 1, '.annotate(n=Count("parts"))', THROUGH)


def test_context_rows_of_a_list_view_are_fixed_in_its_get_queryset() -> None:
    """The rows a ListView's get_context_data reads from its context are the ones its
    get_queryset returns: every return is edited, not the context dict."""
    source = """\
        class BookList(ListView):
            def get_queryset(self):
                qs = self.filterset.qs
                if self.request.GET.get("before"):
                    return qs.order_by("-id")[:20]
                return qs.order_by("id")[:20]

            def get_context_data(self, **kwargs):
                context = super().get_context_data(**kwargs)
                rows = list(context["book_list"])
                return context
        """
    assert fixed(source, 10, '.select_related("cover")') == textwrap.dedent("""\
        class BookList(ListView):
            def get_queryset(self):
                qs = self.filterset.qs
                if self.request.GET.get("before"):
                    return qs.order_by("-id").select_related("cover")[:20]
                return qs.order_by("id").select_related("cover")[:20]

            def get_context_data(self, **kwargs):
                context = super().get_context_data(**kwargs)
                rows = list(context["book_list"])
                return context
        """)


def test_object_list_of_a_view_with_a_queryset_attribute_is_fixed_there() -> None:
    source = """\
        class BookList(ListView):
            queryset = Book.objects.filter(published=True)

            def get(self, request):
                self.object_list = self.get_queryset()
                titles = [b.author.name for b in self.object_list]
        """
    assert fixed(source, 6, '.select_related("author")').splitlines()[1] == (
        '    queryset = Book.objects.filter(published=True).select_related("author")'
    )


def test_view_rows_of_a_class_without_get_queryset_or_queryset_are_unplaceable() -> None:
    source = """\
        class BookList(ShopListView):
            def get_context_data(self, **kwargs):
                context = super().get_context_data(**kwargs)
                return [b.author for b in context["object_list"]]
        """
    with pytest.raises(Unplaceable) as raised:
        fixed(source, 4, '.select_related("author")')
    assert str(raised.value) == (
        "the line reads the rows of the view's get_queryset, which BookList does not define "
        "(a parent class does)"
    )


CHAPTER = Placement(frozenset({"Chapter"}), {"Page": "shop.models"})


def test_rows_prefetched_with_a_queryset_get_the_fix_in_that_queryset() -> None:
    """Chapters loaded by a `Prefetch` of the books: their fix is written into the Prefetch's
    queryset, as it is written for chapters."""
    source = """\
        def get_queryset(self):
            return Book.objects.filter(published=True).prefetch_related(
                Prefetch("chapters", queryset=Chapter.objects.order_by("number")),
            )
        """
    assert fixed(source, 2, '.select_related("editor")', CHAPTER) == textwrap.dedent("""\
        def get_queryset(self):
            return Book.objects.filter(published=True).prefetch_related(
                Prefetch("chapters", queryset=Chapter.objects.order_by("number").select_related("editor")),
            )
        """)


def test_rows_of_a_prefetch_inside_a_prefetch_are_found_and_an_existing_load_is_kept() -> None:
    source = """\
        rows = Shelf.objects.prefetch_related(
            Prefetch(
                "books",
                queryset=Book.objects.prefetch_related(
                    Prefetch("chapters", queryset=Chapter.objects.select_related("editor")),
                ),
            ),
        )
        """
    with pytest.raises(AlreadyThere):
        fixed(source, 1, '.select_related("editor")', CHAPTER)
    assert fixed(source, 1, '.prefetch_related("pages")', CHAPTER).splitlines()[4] == (
        '            Prefetch("chapters", queryset=Chapter.objects.select_related("editor")'
        '.prefetch_related("pages")),'
    )


def test_two_prefetch_querysets_of_the_rows_model_are_not_guessed_between() -> None:
    source = """\
        rows = Book.objects.prefetch_related(
            Prefetch("chapters", queryset=Chapter.objects.all()),
            Prefetch("appendices", queryset=Chapter.objects.filter(appendix=True)),
        )
        """
    with pytest.raises(Unplaceable):
        fixed(source, 1, '.select_related("editor")', CHAPTER)


FEEDING = Placement(frozenset({"Feeding"}))


def test_a_view_naming_only_its_model_gets_a_queryset_for_the_fix() -> None:
    """A ListView or FilterView with `model = …` and no queryset: its rows are the model's
    default manager's, so `queryset = <model>.objects<fix>` goes after the model line."""
    source = """\
        class FeedingList(PermissionRequiredMixin, BabyBuddyFilterView):
            model = models.Feeding
            template_name = "core/feeding_list.html"
        """
    assert fixed(source, 2, '.select_related("child")', FEEDING) == textwrap.dedent("""\
        class FeedingList(PermissionRequiredMixin, BabyBuddyFilterView):
            model = models.Feeding
            queryset = models.Feeding.objects.select_related("child")
            template_name = "core/feeding_list.html"
        """)


def test_the_queryset_written_for_a_model_uses_its_default_manager() -> None:
    placement = Placement(frozenset({"Feeding"}), manager="all_feedings")
    source = """\
        class FeedingList(ListView):
            model = Feeding
        """
    assert fixed(source, 2, '.select_related("child")', placement).splitlines()[2] == (
        '    queryset = Feeding.all_feedings.select_related("child")'
    )


def test_a_model_line_of_a_view_with_its_own_queryset_is_not_given_another() -> None:
    source = """\
        class FeedingList(ListView):
            model = Feeding

            def get_queryset(self):
                return super().get_queryset().filter(active=True)
        """
    with pytest.raises(Unplaceable):
        fixed(source, 2, '.select_related("child")', FEEDING)


def test_a_model_reached_through_its_module_is_the_chains_model() -> None:
    source = """\
        rows = models.Feeding.objects.filter(child=child)
        other = models.Child.objects.filter(pk=1)
        """
    assert fixed(source, 1, '.select_related("child")', FEEDING).splitlines()[0] == (
        'rows = models.Feeding.objects.filter(child=child).select_related("child")'
    )
    with pytest.raises(Unplaceable) as raised:
        fixed(source, 2, '.select_related("child")', FEEDING)
    assert str(raised.value) == (
        "no queryset of Feeding is built on this line (only querysets of Child)"
    )


def test_a_chain_on_the_views_get_queryset_is_edited_where_it_is() -> None:
    """`self.get_queryset().filter(…)` builds a queryset on the line: the fix goes there, as
    before, whether or not the class defines get_queryset."""
    source = """\
        class BookList(ShopListView):
            def get(self, request):
                rows = self.get_queryset().filter(published=True)
                return [b.author for b in rows]
        """
    assert fixed(source, 3, '.select_related("author")').splitlines()[2] == (
        '        rows = self.get_queryset().filter(published=True).select_related("author")'
    )


def test_a_shortcut_given_the_model_gets_its_default_manager_to_carry_the_fix() -> None:
    """`get_object_or_404(Book, …)` queries the model's default manager: the fix goes on it."""
    source = """\
        from django.shortcuts import get_list_or_404, get_object_or_404
        from shop import models


        def book(request, pk):
            book = get_object_or_404(models.Book, pk=pk)  # the detail
            return render(request, "book.html", {"book": book})


        def books(request):
            rows = get_list_or_404(
                Book, published=True
            )
            return render(request, "books.html", {"books": rows})
        """
    assert fixed(source, 6, '.select_related("author__user")').splitlines()[5] == (
        '    book = get_object_or_404(models.Book.objects.select_related("author__user"), pk=pk)'
        "  # the detail"
    )
    assert fixed(source, 11, '.prefetch_related("tags")').splitlines()[10:13] == [
        "    rows = get_list_or_404(",
        '        Book.objects.prefetch_related("tags"), published=True',
        "    )",
    ]


def test_a_shortcut_given_another_model_or_a_queryset_is_not_rewritten() -> None:
    with pytest.raises(Unplaceable, match="no queryset of Book"):
        fixed("author = get_object_or_404(Author, pk=pk)\n", 1, '.select_related("user")')
    assert fixed(
        "book = get_object_or_404(Book.objects.filter(live=True), pk=pk)\n",
        1,
        '.select_related("author")',
    ) == (
        'book = get_object_or_404(Book.objects.filter(live=True).select_related("author"), pk=pk)\n'
    )


def test_every_return_of_a_function_that_returns_only_rows_is_edited() -> None:
    """A feed's items() filters one way or another: whichever return ran, its rows need the fix."""
    source = """\
        def items(self, obj):
            if obj["queue"]:
                return Book.objects.filter(queue=obj["queue"])
            return Book.objects.filter(owner=obj["user"])
        """
    assert fixed(source, 3, '.select_related("author")') == textwrap.dedent("""\
        def items(self, obj):
            if obj["queue"]:
                return Book.objects.filter(queue=obj["queue"]).select_related("author")
            return Book.objects.filter(owner=obj["user"]).select_related("author")
        """)
    # a return of anything else: only the origin's statement is the rows'
    mixed = source.replace('return Book.objects.filter(owner=obj["user"])', "return []")
    assert fixed(mixed, 3, '.select_related("author")').count("select_related") == 1


HELPER = """\
    def optimized_books():
        return Book.objects.select_related("publisher")


    def optimized_authors():
        return Author.objects.all()


    def detail(request, slug):
        book = get_object_or_404(optimized_books(), slug=slug)
        return JsonResponse(book_resource(book))


    def shelf(request, slug):
        shelf = get_object_or_404(Shelf, slug=slug)
        books = optimized_books().filter(shelf=shelf)
        data = {"shelf": shelf_resource(shelf), "books": [book_resource(b) for b in books[:20]]}
        return JsonResponse(data)


    def pair(request):
        data = {"authors": list(optimized_authors()), "books": list(optimized_books())}
        return JsonResponse(data)
    """


def test_a_queryset_of_a_module_helper_is_the_helpers_model() -> None:
    """`optimized_books()` returns only Book querysets: a shortcut given it, and a line that also
    reads another model's row, know which queryset is the rows'. The fix goes at the call, so the
    helper's other callers keep their queries."""
    lines = fixed(HELPER, 10, '.select_related("author")').splitlines()
    assert lines[9] == (
        '    book = get_object_or_404(optimized_books().select_related("author"), slug=slug)'
    )
    assert lines[1] == '    return Book.objects.select_related("publisher")'
    lines = fixed(HELPER, 17, '.select_related("author")').splitlines()
    assert lines[15] == '    books = optimized_books().filter(shelf=shelf).select_related("author")'
    lines = fixed(HELPER, 22, '.select_related("author")').splitlines()
    assert lines[21] == (
        '    data = {"authors": list(optimized_authors()), "books": '
        'list(optimized_books().select_related("author"))}'
    )


def test_a_helper_returning_querysets_of_two_models_names_neither() -> None:
    source = """\
        def rows(kind):
            if kind == "books":
                return Book.objects.all()
            return Author.objects.all()


        def detail(request, slug):
            return JsonResponse(resource(get_object_or_404(rows("books"), slug=slug)))
        """
    with pytest.raises(Unplaceable, match="no queryset of Book"):
        fixed(source, 8, '.select_related("author")')


def test_a_loop_over_a_property_of_a_parameter_gets_the_fix_on_it() -> None:
    """`event.talks` is a property returning a queryset: the loop on the origin line iterates
    the rows, so the fix goes on what it iterates."""
    source = """\
        def talk_urls(event):
            for talk in event.talks:
                yield talk.urls.public
        """
    assert fixed(source, 2, '.prefetch_related("resources")').splitlines()[1] == (
        '    for talk in event.talks.prefetch_related("resources"):'
    )


def test_a_comprehension_over_a_related_set_on_the_origin_line_gets_the_fix() -> None:
    source = """\
        class ReviewPage:
            def reviews(self):
                return [
                    {"user": review.user, "text": review.text}
                    for review in self.submission.reviews.exclude(
                        pk=self.object.pk
                    ).prefetch_related("scores")
                ]
        """
    lines = fixed(source, 5, '.select_related("user")').splitlines()
    assert lines[6] == '            ).prefetch_related("scores").select_related("user")'


def test_a_loop_over_rows_kept_on_self_is_not_edited_where_it_loops() -> None:
    source = """\
        def titles(self):
            return [b.author.name for b in self.rows]
        """
    with pytest.raises(Unplaceable):
        fixed(source, 2, '.select_related("author")')


def test_fixes_placed_one_after_another_on_one_text_each_start_from_that_text() -> None:
    """The module's tree is parsed once per text and kept: an edit makes a new tree, so a second
    fix placed on the same text sees none of the first."""
    source = "rows = Book.objects.filter(published=True)\n"
    first = fixed(source, 1, '.select_related("author")')
    second = fixed(source, 1, '.prefetch_related("tags")')
    assert first == 'rows = Book.objects.filter(published=True).select_related("author")\n'
    assert second == 'rows = Book.objects.filter(published=True).prefetch_related("tags")\n'
    assert fixed(first, 1, '.prefetch_related("tags")') == (
        'rows = Book.objects.filter(published=True).select_related("author").prefetch_related('
        '"tags")\n'
    )


def test_a_variable_built_from_the_views_queryset_attribute_takes_the_fix() -> None:
    """`queryset = self.queryset.filter(…)` builds `queryset` anew: `self.queryset` is an
    attribute, not the variable read again."""
    source = """\
        class Plans(ModelViewSet):
            queryset = Book.objects

            def get_queryset(self):
                queryset = self.queryset.order_by("time").filter(space=self.request.space).all()
                return queryset
        """
    assert fixed(source, 6, '.select_related("author")') == textwrap.dedent("""\
        class Plans(ModelViewSet):
            queryset = Book.objects

            def get_queryset(self):
                queryset = self.queryset.order_by("time").filter(space=self.request.space).all().select_related("author")
                return queryset
        """)
