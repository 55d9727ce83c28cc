"""One view per case. A `# case:` comment marks each line a finding must point at."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Avg, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.views.generic import ListView

from tests.corpus.generic import RenderingListView
from tests.corpus.models import (
    Author,
    AuthorProfile,
    Book,
    Comment,
    Enrollment,
    Loan,
    Note,
    Publisher,
    Review,
    Revision,
    Tag,
)


def fk(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")  # origin: fk
    names = [book.author.name for book in books]  # case: fk
    return JsonResponse({"names": names})


def o2o_forward(request: HttpRequest) -> JsonResponse:
    profiles = AuthorProfile.objects.order_by("id")  # origin: o2o_forward
    names = [p.author.name for p in profiles]  # case: o2o_forward
    return JsonResponse({"names": names})


def o2o_reverse(request: HttpRequest) -> JsonResponse:
    bios = []
    for author in Author.objects.order_by("id"):  # origin: o2o_reverse
        try:
            bios.append(author.profile.bio)  # case: o2o_reverse
        except ObjectDoesNotExist:
            bios.append("")
    return JsonResponse({"bios": bios})


def m2m(request: HttpRequest) -> JsonResponse:
    books = list(Book.objects.order_by("id"))  # origin: m2m
    tags = [[t.name for t in book.tags.all()] for book in books]  # case: m2m
    return JsonResponse({"tags": tags})


def reverse_fk(request: HttpRequest) -> JsonResponse:
    authors = Author.objects.order_by("id")  # origin: reverse_fk
    titles = [[b.title for b in author.books.all()] for author in authors]  # case: reverse_fk
    return JsonResponse({"titles": titles})


def generic_fk(request: HttpRequest) -> JsonResponse:
    comments = Comment.objects.order_by("id")  # origin: generic_fk
    targets = [str(c.target.pk) for c in comments]  # case: generic_fk
    return JsonResponse({"targets": targets})


def generic_relation(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")  # origin: generic_relation
    texts = [[c.text for c in book.comments.all()] for book in books]  # case: generic_relation
    return JsonResponse({"texts": texts})


def constant_key(request: HttpRequest) -> JsonResponse:
    """Per book, a count filtered on one and the same book (the foreign key is constant) and on
    a value of the row: the rows vary by the rating, not by the key."""
    books = list(Book.objects.order_by("id"))
    first = books[0]
    counts = []
    for b in books:
        n = Review.objects.filter(book=first, rating__gte=b.pk).count()  # case: constant_key
        counts.append(n)
    return JsonResponse({"counts": counts})


def sibling_count(request: HttpRequest) -> JsonResponse:
    """Per review, the loans of the review's book: a count on another model's foreign key to the
    book, filtered by the value the review row holds (the rows are reviews, not books)."""
    reviews = Review.objects.order_by("id")
    counts = [Loan.objects.filter(book=r.book_id).count() for r in reviews]  # case: sibling_count
    return JsonResponse({"counts": counts})


def sibling_count_loaded(request: HttpRequest) -> JsonResponse:
    """As sibling_count, with the book object itself (loaded per row) as the filter's value."""
    counts = []
    for r in Review.objects.order_by("id"):  # origin: sibling_count_loaded
        counts.append(Loan.objects.filter(book=r.book).count())  # case: sibling_count_loaded
    return JsonResponse({"counts": counts})


def generic_exists(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")
    flags = [book.comments.exists() for book in books]  # case: generic_exists
    return JsonResponse({"flags": flags})


def chain2(request: HttpRequest) -> JsonResponse:
    reviews = Review.objects.order_by("id")  # origin: chain2
    names = [r.book.author.name for r in reviews]  # case: chain2
    return JsonResponse({"names": names})


def chain3(request: HttpRequest) -> JsonResponse:
    reviews = Review.objects.order_by("id")  # origin: chain3
    names = [r.book.author.publisher.name for r in reviews]  # case: chain3
    return JsonResponse({"names": names})


def count(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")  # origin: count
    counts = [book.reviews.count() for book in books]  # case: count
    return JsonResponse({"counts": counts})


def exists(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")  # origin: exists
    flags = [book.reviews.exists() for book in books]  # case: exists
    return JsonResponse({"flags": flags})


def filtered(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")
    ratings = []
    for book in books:  # origin: filtered
        ratings.append([r.rating for r in book.reviews.filter(approved=True)])  # case: filtered
    return JsonResponse({"ratings": ratings})


def prefetch_bypassed(request: HttpRequest) -> JsonResponse:
    books = Book.objects.prefetch_related("reviews").order_by("id")
    ratings = []
    for book in books:  # origin: prefetch_bypassed
        ratings.append([r.rating for r in book.reviews.filter(approved=True)])  # case: bypassed
    return JsonResponse({"ratings": ratings})


def partial_select(request: HttpRequest) -> JsonResponse:
    reviews = Review.objects.select_related("book").order_by("id")  # origin: partial_select
    names = [r.book.author.name for r in reviews]  # case: partial_select
    return JsonResponse({"names": names})


def prop(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")  # origin: prop
    names = [book.publisher_name for book in books]  # case: prop
    return JsonResponse({"names": names})


def dunder_str(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")  # origin: dunder_str
    labels = [str(book) for book in books]  # case: dunder_str
    return JsonResponse({"labels": labels})


def template_loop(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    return render(request, "corpus/books.html", {"books": books})  # origin: template_loop


class ListViewModel(ListView):  # type: ignore[type-arg]
    """A generic view with only `model =`: Django builds and runs the queryset."""

    model = Book  # origin: list_view_model
    ordering = ["id"]
    template_name = "corpus/books.html"
    context_object_name = "books"


class BaseRenderedList(RenderingListView):
    """Rows a base view of another module renders: its render line builds no queryset."""

    queryset = Book.objects.order_by("id")  # origin: base_rendered_list


def template_method(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    return render(request, "corpus/book_totals.html", {"books": books})  # origin: template_method


def template_tag(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    return render(request, "corpus/book_tags.html", {"books": books})  # origin: template_tag


def nested_count(request: HttpRequest) -> JsonResponse:
    # The fix goes on `tag.books...` itself: a Prefetch on the tag would not survive order_by.
    tag = Tag.objects.get(name="python")
    counts = [book.reviews.count() for book in tag.books.order_by("id")]  # case: nested_count
    return JsonResponse({"counts": counts})


def join_lookup(request: HttpRequest) -> JsonResponse:
    averages = []
    for author in Author.objects.order_by("id"):  # origin: join_lookup
        reviews = Review.objects.filter(book__author=author)
        averages.append(reviews.aggregate(Avg("rating"))["rating__avg"])  # case: join_lookup
    return JsonResponse({"averages": averages})


def nested_all(request: HttpRequest) -> JsonResponse:
    # The set is read whole: a prefetch of it on the tag serves it.
    tag = Tag.objects.get(name="python")  # origin: nested_all
    counts = [book.reviews.count() for book in tag.books.all()]  # case: nested_all
    return JsonResponse({"counts": counts})


def nested_filtered(request: HttpRequest) -> JsonResponse:
    tag = Tag.objects.get(name="python")
    books = tag.books.filter(published=True).order_by("id")
    tags = [[t.name for t in book.tags.all()] for book in books]  # case: nested_filtered
    return JsonResponse({"tags": tags})


def membership(request: HttpRequest) -> JsonResponse:
    python = Tag.objects.get(name="python")
    books = Book.objects.order_by("id")
    flags = [python.has_book(book) for book in books]  # origin: membership
    return JsonResponse({"flags": flags})


def membership_joined(request: HttpRequest) -> JsonResponse:
    python = Tag.objects.get(name="django")
    reviews = Review.objects.select_related("book").order_by("id")
    flags = [python.has_book(review.book) for review in reviews]  # origin: membership_joined
    return JsonResponse({"flags": flags})


def membership_prefix(request: HttpRequest) -> JsonResponse:
    tag = Tag.objects.get(name="django")
    rs = Review.objects.select_related("book__author").order_by("id")
    rows = [(tag.has_book(r.book), r.book.author.name) for r in rs]  # origin: membership_prefix
    return JsonResponse({"rows": rows})


def membership_two_paths(request: HttpRequest) -> JsonResponse:
    """Two select_related paths reach Book; the rows tested are the ones read through `book`."""
    tag = Tag.objects.get(name="python")
    loans = Loan.objects.select_related("book", "review__book").order_by("id")
    flags = [tag.has_book(loan.book) for loan in loans]  # origin: membership_two_paths
    return JsonResponse({"flags": flags, "reviews": [loan.review.rating for loan in loans]})


def ordered_count(request: HttpRequest) -> JsonResponse:
    counts = [p.authors.count() for p in Publisher.objects.all()]  # case: ordered_count
    return JsonResponse({"counts": counts})


def ordered_set(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")
    names = [[t.name for t in b.ordered_tags()] for b in books]  # case: ordered_set
    return JsonResponse({"names": names})


def default_accessor_count(request: HttpRequest) -> JsonResponse:
    counts = [b.note_set.count() for b in Book.objects.order_by("id")]  # case: default_accessor
    return JsonResponse({"counts": counts})


def manager_filtered_count(request: HttpRequest) -> JsonResponse:
    # Memo's default manager leaves hidden memos out: Count("memos") would count them
    counts = [b.memos.count() for b in Book.objects.order_by("id")]  # case: manager_filtered
    return JsonResponse({"counts": counts})


def manager_filtered_all(request: HttpRequest) -> JsonResponse:
    """Each book's memos, read whole through a default manager that leaves hidden ones out: the
    manager's condition is not a filter of this line's (a prefetch goes through the same
    manager)."""
    books = Book.objects.order_by("id")  # origin: manager_filtered_all
    ids = [[m.pk for m in b.memos.all()] for b in books]  # case: manager_filtered_all
    return JsonResponse({"ids": ids})


def local_value(request: HttpRequest) -> JsonResponse:
    """A per-row count filtered by a variable of the view: the rows are queried in the same
    function, where the variable is too."""
    threshold = int(request.GET.get("over", "2"))
    books = Book.objects.order_by("id")
    counts = [b.reviews.filter(rating__gte=threshold).count() for b in books]  # case: local_value
    return JsonResponse({"counts": counts})


def local_value_elsewhere(request: HttpRequest) -> JsonResponse:
    """The same count in a model method, filtered by the method's parameter: the view, where the
    rows are queried, has no `threshold`."""
    books = Book.objects.order_by("id")
    return JsonResponse({"counts": [b.ratings_over(2) for b in books]})


def inherited_read(request: HttpRequest) -> JsonResponse:
    """The books' authors joined, each book then handed out as a ShelfBook (as django-polymorphic
    hands out a base model's rows as their children) and its author read there: the join is
    used."""
    from tests.corpus.models import ShelfBook

    names = []
    for book in Book.objects.select_related("author").order_by("id"):
        book.__class__ = ShelfBook
        names.append(book.author.name)
    return JsonResponse({"names": names})


def forked_chain(request: HttpRequest) -> JsonResponse:
    """Each enrollment's student, then two of the student's relations: its user, and its
    enrollments counted. One lazy student per row feeds both."""
    rows = []
    for e in Enrollment.objects.order_by("id"):  # origin: forked_chain
        student = e.student  # case: forked_chain
        rows.append([student.user.username, student.enrollments.count()])  # case: forked_reads
    return JsonResponse({"rows": rows})


def _tag_names(book: Book) -> list[str]:
    return [t.name for t in book.tags.all()]  # case: same_set_twice


def same_set_twice(request: HttpRequest) -> JsonResponse:
    """Each book's tags read twice by one helper: the same set again is not a membership test of
    the tags (the set is not filtered to a row)."""
    rows = []
    for b in Book.objects.order_by("id"):  # origin: same_set_twice
        rows.append(_tag_names(b) + _tag_names(b))
    return JsonResponse({"rows": rows})


def self_prefetch(request: HttpRequest) -> JsonResponse:
    """Tags with their similar tags prefetched (Tag rows too, none here), then each listed tag's
    books counted: the rows are the list's own, not the similar tags'."""
    tags = Tag.objects.prefetch_related("similar").order_by("id")
    counts = [[t.books.count(), len(t.similar.all())] for t in tags]  # case: self_prefetch
    return JsonResponse({"counts": counts})


def default_accessor_lookup(request: HttpRequest) -> JsonResponse:
    books = Book.objects.order_by("id")
    counts = [Note.objects.filter(book=b).count() for b in books]  # case: default_accessor_lookup
    return JsonResponse({"counts": counts})


def shared_fk_pair(request: HttpRequest) -> JsonResponse:
    """Two books by one author: two identical queries, fewer than an N+1 needs."""
    pair = Book.objects.filter(title__in=["book 0", "book 5"]).order_by("id")
    names = [b.author.name for b in pair]  # case: shared_fk_pair
    return JsonResponse({"names": names})


def eager_empty(request: HttpRequest) -> JsonResponse:
    """An eager load reaching Book that loads no rows: the books read are another queryset's."""
    unrated = list(Loan.objects.filter(review__rating=-1).select_related("book"))
    books = list(Book.objects.order_by("id"))  # origin: eager_empty
    titles = [[r.rating for r in b.reviews.all()] for b in books]  # case: eager_empty
    return JsonResponse({"titles": titles, "unrated": len(unrated)})


def eager_other_rows(request: HttpRequest) -> JsonResponse:
    """An eager load that loads (and reads) Book rows, but not the ones whose reviews are read."""
    loans = list(Loan.objects.select_related("book").order_by("id"))
    lent = [loan.book.title for loan in loans]
    books = list(Book.objects.order_by("id"))  # origin: eager_other_rows
    titles = [[r.rating for r in b.reviews.all()] for b in books]  # case: eager_other_rows
    return JsonResponse({"titles": titles, "lent": lent})


def same_object_repeat(request: HttpRequest) -> JsonResponse:
    """One object's relation read once per row with the same parameters: the same query again."""
    tag = Tag.objects.get(name="python")
    author = Author.objects.order_by("id")[0]
    books = list(Book.objects.order_by("id"))
    tagged = [tag.books.exists() for _ in books]  # case: same_object_m2m
    counts = [author.books.count() for _ in books]  # case: same_object_fk
    return JsonResponse({"tagged": tagged, "counts": counts})


def partial_per_row(request: HttpRequest) -> HttpResponse:
    """The rows are queried in the template, which Django renders after the view returned; a tag
    renders a partial per row, and the partial reads a relation."""
    books = Book.objects.order_by("id")
    return TemplateResponse(request, "corpus/partial_per_row.html", {"books": books})


# Negatives: none of these may produce a finding.


def eager_full(request: HttpRequest) -> JsonResponse:
    books = Book.objects.select_related("author").prefetch_related("tags").order_by("id")
    rows = [(b.author.name, [t.name for t in b.tags.all()]) for b in books]
    return JsonResponse({"rows": rows})


def detail(request: HttpRequest, pk: int) -> JsonResponse:
    book = Book.objects.get(pk=pk)
    return JsonResponse({"author": book.author.name, "tags": [t.name for t in book.tags.all()]})


def detail_lazy(request: HttpRequest, pk: int) -> JsonResponse:
    book = Book.objects.filter(published=True).get(pk=pk)  # origin: detail_lazy
    return JsonResponse(
        {
            "country": book.author.publisher.country.name,  # case: detail_lazy
            "good": book.reviews.filter(approved=True).count(),  # case: detail_lazy_count
        }
    )


def two_routes(request: HttpRequest) -> JsonResponse:
    # Loan.book and Review.book read on one line: the same statement through two relations.
    loans = Loan.objects.order_by("id")  # origin: two_routes
    rows = [(loan.book.title, loan.review.book.title) for loan in loans]  # case: two_routes
    return JsonResponse({"rows": rows})


def two_routes_template(request: HttpRequest) -> HttpResponse:
    loans = Loan.objects.order_by("id")
    return render(request, "corpus/loans.html", {"loans": loans})  # origin: two_routes_template


def prefetched_child_fk(request: HttpRequest) -> JsonResponse:
    books = Book.objects.prefetch_related("loans").order_by("id")
    ratings = []
    for book in books:  # origin: prefetched_child_fk
        for loan in book.loans.all():
            ratings.append(loan.review.rating)  # case: prefetched_child_fk
    return JsonResponse({"ratings": ratings})


def revision_history(request: HttpRequest) -> JsonResponse:
    # A revision's topic's current revision is a revision too: the revision's own previous one
    # and editor are read on the rows listed, not on the current revisions.
    rows = []
    for revision in Revision.objects.order_by("id"):  # origin: revision_history
        topic = str(revision.topic)  # case: history_topic
        earlier = revision.previous.title if revision.previous else ""  # case: history_previous
        editor = revision.editor.username if revision.editor else ""  # case: history_editor
        rows.append([topic, earlier, editor])
    return JsonResponse({"rows": rows})


def revision_chain(request: HttpRequest) -> JsonResponse:
    # The editor of each revision's previous one: a chain from the rows listed.
    rows = []
    for revision in Revision.objects.order_by("id"):  # origin: revision_chain
        previous = revision.previous  # case: chain_previous
        rows.append(previous.editor.username if previous else "")  # case: chain_editor
    return JsonResponse({"rows": rows})


def prefetch_cache_read(request: HttpRequest) -> JsonResponse:
    # Reads what the prefetch loaded from the row's cache, falling back to a query without it.
    books = Book.objects.prefetch_related("reviews").order_by("id")
    counts = []
    for book in books:
        cached = getattr(book, "_prefetched_objects_cache", {}).get("reviews")
        counts.append(len(cached) if cached is not None else book.reviews.count())
    return JsonResponse({"counts": counts})


def method_callers(request: HttpRequest) -> HttpResponse:
    books = list(Book.objects.order_by("id"))
    books[0].namesakes()  # caller: view
    return render(request, "corpus/namesakes.html", {"books": books})  # origin: method_callers


def eager_some_requests(request: HttpRequest) -> JsonResponse:
    # Reads the author only when asked: the select_related is used by those requests.
    books = Book.objects.select_related("author").order_by("id")  # origin: eager_some_requests
    if request.GET.get("authors"):
        return JsonResponse({"names": [b.author.name for b in books]})
    return JsonResponse({"titles": [b.title for b in books]})


def _page(rows: QuerySet[Book]) -> tuple[int, list[str]]:
    # A paginator's shape: count() on the queryset it is given (no join, no rows), then its rows.
    total = rows.count()
    return total, [b.title for b in rows]


def count_then_rows(request: HttpRequest) -> JsonResponse:
    # The author is never read: one unused eager load, the rows' (the count loads no rows).
    total, titles = _page(Book.objects.select_related("author").order_by("id"))  # eager: rows
    return JsonResponse({"total": total, "titles": titles})


def unapproved_review(request: HttpRequest) -> JsonResponse:
    books = Book.objects.prefetch_related("reviews").order_by("id")
    rows = []
    for book in books:
        try:
            rows.append(book.reviews.get(approved=False).rating)  # case: unapproved_review
        except (Review.DoesNotExist, Review.MultipleObjectsReturned):
            rows.append(None)
    return JsonResponse({"rows": rows})


class BookFeed(Feed):
    """A syndication feed: Django's code calls items() and iterates the rows it returns."""

    title = "Books"
    link = "/corpus/"
    description = "New books"

    def get_object(self, request: HttpRequest) -> str:
        return request.GET.get("order", "")

    def items(self, obj: str) -> QuerySet[Book]:
        if obj == "newest":
            return Book.objects.order_by("-id")  # origin: book_feed
        return Book.objects.order_by("id")

    def item_title(self, item: Book) -> str:
        return f"{item.title} by {item.author.name}"  # case: book_feed

    def item_description(self, item: Book) -> str:
        return item.title

    def item_link(self, item: Book) -> str:
        return f"/corpus/detail/{item.pk}/"


def template_filter(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    return render(request, "corpus/approved.html", {"books": books})  # origin: template_filter


def two_lists(request: HttpRequest) -> JsonResponse:
    newest = list(Book.objects.order_by("-id")[:2])
    oldest = list(Book.objects.order_by("id")[:2])
    return JsonResponse({"titles": [b.title for b in newest + oldest]})


def bounded_loop(request: HttpRequest) -> JsonResponse:
    found = [Tag.objects.filter(name=name).first() for name in ("python", "django")]
    return JsonResponse({"found": [t.name if t else None for t in found]})


def bulk(request: HttpRequest) -> JsonResponse:
    Tag.objects.bulk_create([Tag(name=f"bulk-{i}") for i in range(50)], batch_size=10)
    Tag.objects.filter(name__startswith="bulk-").update(name="bulked")
    Tag.objects.filter(name="bulked").delete()
    return JsonResponse({"ok": True})


def some_rows(request: HttpRequest) -> JsonResponse:
    books = Book.objects.select_related("author").order_by("id")
    names = [b.author.name if b.id % 2 else "" for b in books]
    return JsonResponse({"names": names})


# Other findings.


def unused_select(request: HttpRequest) -> JsonResponse:
    books = Book.objects.select_related("author").order_by("id")  # case: unused_select
    return JsonResponse({"titles": [b.title for b in books]})


def unused_nested_select(request: HttpRequest) -> JsonResponse:
    reviews = Review.objects.select_related(  # case: unused_nested_select
        "book", "book__author", "book__author__publisher"
    ).order_by("id")
    return JsonResponse({"ratings": [r.rating for r in reviews]})


def unused_prefetch(request: HttpRequest) -> JsonResponse:
    books = Book.objects.prefetch_related("tags").order_by("id")  # case: unused_prefetch
    return JsonResponse({"titles": [b.title for b in books]})


def duplicate(request: HttpRequest) -> JsonResponse:
    first = Tag.objects.get(name="python")  # case: duplicate
    again = Tag.objects.get(name="python")  # case: duplicate-again
    return JsonResponse({"same": first.pk == again.pk})


def write_on_get(request: HttpRequest) -> JsonResponse:
    Tag.objects.filter(name="python").update(name="python")  # case: write_on_get
    return JsonResponse({"ok": True})


def catalogue_titles(request: HttpRequest) -> JsonResponse:
    """A queryset a model's property builds with select_related("author"), its authors unread."""
    publisher = Publisher.objects.order_by("id").first()
    titles = [b.title for b in publisher.catalogue] if publisher else []
    return JsonResponse({"titles": titles})


def catalogue_authors(request: HttpRequest) -> JsonResponse:
    """The same property's queryset, its authors read."""
    publisher = Publisher.objects.order_by("id").first()
    names = [b.author.name for b in publisher.catalogue] if publisher else []
    return JsonResponse({"names": names})


def write_in_save(request: HttpRequest) -> JsonResponse:
    """A GET that saves a row through the model's own save(): the write is this line's."""
    note = Note.objects.order_by("id").first()
    if note is not None:
        note.save()  # case: write_in_save
    return JsonResponse({"ok": True})


def m2m_through(request: HttpRequest) -> JsonResponse:
    # A prefetch per row: Django reads each book's tags through the auto-created through model
    # (`Book_tags`), whose reverse accessor `Book_tags+` is hidden and no lookup may name.
    books = list(Book.objects.order_by("id"))  # origin: m2m_through
    for book in books:
        prefetch_related_objects([book], "tags")  # case: m2m_through
    return JsonResponse({"tags": [[t.name for t in b.tags.all()] for b in books]})


def m2m_through_reverse(request: HttpRequest) -> JsonResponse:
    tags = list(Tag.objects.order_by("id"))  # origin: m2m_through_reverse
    for tag in tags:
        prefetch_related_objects([tag], "books")  # case: m2m_through_reverse
    return JsonResponse({"books": [[b.title for b in t.books.all()] for t in tags]})


def library_template(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    # corpus/library_outer.html includes an installed app's template (under site-packages),
    # which loops over the books: the lines named are the project's, never the library's.
    return render(request, "corpus/library_outer.html", {"books": books})  # origin: library


def library_extends(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    # corpus/library_child.html only extends an installed app's template, which loops over the
    # books: its `{% extends %}` line holds nothing to change, the view's render call is named (as
    # the origin too, as for library_template: the queryset is handed to the template there).
    return render(request, "corpus/library_child.html", {"books": books})  # case: library_extends


def library_block(request: HttpRequest) -> HttpResponse:
    books = Book.objects.order_by("id")
    # An installed app's shelf/list.html extends the project's corpus/frame.html and fills its
    # `{% block content %}` with a loop that prints each book (Book.__str__ reads its author).
    return render(request, "shelf/list.html", {"books": books})  # origin: library_block


class ShelfAdmin:
    """A ModelAdmin's shape: Django sets `model_admin` on each view it serves."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Book]:
        return Book.objects.order_by("id")  # origin: admin_changelist


def changelist_view(request: HttpRequest) -> JsonResponse:
    """A change list: Django's code pages the ModelAdmin's rows, a column reads each author."""
    from django.core.paginator import Paginator

    page = Paginator(ShelfAdmin().get_queryset(request), 10).page(1)
    names = [book.author.name for book in page]  # case: admin_changelist
    return JsonResponse({"names": names})


changelist_view.model_admin = ShelfAdmin()  # type: ignore[attr-defined]


def choices_model_form(request: HttpRequest) -> HttpResponse:
    """A model form's select: its choices are rows the form field queries."""
    from tests.corpus.forms import LoanForm

    return HttpResponse(LoanForm().as_p())


def choices_declared(request: HttpRequest) -> HttpResponse:
    """A declared ModelChoiceField rendered in a template."""
    from tests.corpus.forms import PickBookForm

    return render(request, "corpus/pick_book.html", {"form": PickBookForm()})


def choices_of_field(request: HttpRequest) -> JsonResponse:
    """The choices a model field lists (what an admin list filter shows)."""
    choices = Loan._meta.get_field("book").get_choices(include_blank=False)
    return JsonResponse({"choices": [label for _, label in choices]})


def latest_per_row(request: HttpRequest) -> JsonResponse:
    """Each author's newest book, read per author: one row of each set, in reverse order."""
    authors = Author.objects.order_by("id")
    titles = [a.books.latest("id").title for a in authors]  # case: latest_per_row
    return JsonResponse({"titles": titles})
