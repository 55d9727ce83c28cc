"""The diagnosis corpus: every case's exact finding (kind, model, field, path, fix, lines)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.corpus.data import seed
from tests.corpus.models import Enrollment, Memo, Review
from tests.support.corpus import findings_for, line_of

VIEWS = "tests/corpus/views.py"
MODELS = "tests/corpus/models.py"
SERIALIZERS = "tests/corpus/serializers.py"
DRF_VIEWS = "tests/corpus/drf_views.py"
TEMPLATES = "tests/templates/corpus"

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.mariadb]


@pytest.fixture(autouse=True)
def _data(db: None) -> None:
    seed()


def site(file: str, marker: str) -> str:
    return f"{file}:{line_of(file, marker)}"


# url, model, field, path, fix code, callsite, origin, repeats
N_PLUS_ONE = {
    # Django's prefetch of an m2m joins the auto-created through model, whose reverse accessor
    # (`Book_tags+`) is hidden: the fix names the m2m itself, from either side.
    "m2m_through": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related("tags")',
        (VIEWS, "# case: m2m_through"),
        (VIEWS, "# origin: m2m_through"),
        6,
    ),
    "m2m_through_reverse": (
        "corpus.Tag",
        "books",
        "books",
        '.prefetch_related("books")',
        (VIEWS, "# case: m2m_through_reverse"),
        (VIEWS, "# origin: m2m_through_reverse"),
        3,
    ),
    "fk": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (VIEWS, "# case: fk"),
        (VIEWS, "# case: fk"),
        6,
    ),
    "o2o_forward": (
        "corpus.AuthorProfile",
        "author",
        "author",
        '.select_related("author")',
        (VIEWS, "# case: o2o_forward"),
        (VIEWS, "# case: o2o_forward"),
        3,
    ),
    "o2o_reverse": (
        "corpus.Author",
        "profile",
        "profile",
        '.select_related("profile")',
        (VIEWS, "# case: o2o_reverse"),
        (VIEWS, "# origin: o2o_reverse"),
        5,
    ),
    "m2m": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related("tags")',
        (VIEWS, "# case: m2m"),
        (VIEWS, "# origin: m2m"),
        6,
    ),
    "reverse_fk": (
        "corpus.Author",
        "books",
        "books",
        '.prefetch_related("books")',
        (VIEWS, "# case: reverse_fk"),
        (VIEWS, "# case: reverse_fk"),
        5,
    ),
    "generic_fk": (
        "corpus.Comment",
        "target",
        "target",
        '.prefetch_related("target")',
        (VIEWS, "# case: generic_fk"),
        (VIEWS, "# case: generic_fk"),
        6,
    ),
    "generic_relation": (
        "corpus.Book",
        "comments",
        "comments",
        '.prefetch_related("comments")',
        (VIEWS, "# case: generic_relation"),
        (VIEWS, "# case: generic_relation"),
        6,
    ),
    # A generic relation's rows are the target's only with its content type too: no Exists()
    # filtered on object_id alone, but the relation's own join, which adds it.
    "generic_exists": (
        "corpus.Book",
        "comments",
        "comments",
        '.annotate(has_comments_count=Count("comments"))',
        (VIEWS, "# case: generic_exists"),
        (VIEWS, "# case: generic_exists"),
        6,
    ),
    "chain2": (
        "corpus.Review",
        "book",
        "book__author",
        '.select_related("book__author")',
        (VIEWS, "# case: chain2"),
        (VIEWS, "# case: chain2"),
        24,
    ),
    "chain3": (
        "corpus.Review",
        "book",
        "book__author__publisher",
        '.select_related("book__author__publisher")',
        (VIEWS, "# case: chain3"),
        (VIEWS, "# case: chain3"),
        36,
    ),
    "count": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(reviews_count=Count("reviews"))',
        (VIEWS, "# case: count"),
        (VIEWS, "# case: count"),
        6,
    ),
    # The tags' similar tags are prefetched (a Tag-to-Tag many-to-many): the counted books are
    # the listed tags', not reached through `similar`.
    "self_prefetch": (
        "corpus.Tag",
        "books",
        "books",
        '.annotate(books_count=Count("books"))',
        (VIEWS, "# case: self_prefetch"),
        (VIEWS, "# case: self_prefetch"),
        3,
    ),
    # Filtered by a variable of the view that queries the rows: the annotation may use it.
    "local_value": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(reviews_count=Count("reviews", filter=Q(reviews__rating__gte=threshold)))',
        (VIEWS, "# case: local_value"),
        (VIEWS, "# case: local_value"),
        6,
    ),
    "same_set_twice": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related("tags")',
        (VIEWS, "# case: same_set_twice"),
        (VIEWS, "# origin: same_set_twice"),
        12,
    ),
    "manager_filtered_all": (
        "corpus.Book",
        "memos",
        "memos",
        '.prefetch_related("memos")',
        (VIEWS, "# case: manager_filtered_all"),
        (VIEWS, "# case: manager_filtered_all"),
        6,
    ),
    # Per review, the loans of the review's book: the rows are reviews (which hold the key), and
    # the count is read from them through the book.
    "sibling_count": (
        "corpus.Review",
        "book",
        "book__loans",
        '.annotate(loans_count=Count("book__loans"))',
        (VIEWS, "# case: sibling_count"),
        (VIEWS, "# case: sibling_count"),
        12,
    ),
    "exists": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(has_reviews=Exists(Review.objects.filter(book=OuterRef("pk"))))',
        (VIEWS, "# case: exists"),
        (VIEWS, "# case: exists"),
        6,
    ),
    "filtered": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.prefetch_related(Prefetch("reviews", queryset=Review.objects.filter(approved=True), to_attr="filtered_reviews"))',
        (VIEWS, "# case: filtered"),
        (VIEWS, "# origin: filtered"),
        6,
    ),
    "prefetch_bypassed": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.prefetch_related(Prefetch("reviews", queryset=Review.objects.filter(approved=True), to_attr="filtered_reviews"))',
        (VIEWS, "# case: bypassed"),
        (VIEWS, "# origin: prefetch_bypassed"),
        6,
    ),
    "partial_select": (
        "corpus.Review",
        "book",
        "book__author",
        '.select_related("book__author")',
        (VIEWS, "# case: partial_select"),
        (VIEWS, "# case: partial_select"),
        12,
    ),
    "prop": (
        "corpus.Book",
        "author",
        "author__publisher",
        '.select_related("author__publisher")',
        (MODELS, "# case: prop"),
        (VIEWS, "# case: prop"),
        12,
    ),
    "dunder_str": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (MODELS, "# case: dunder_str"),
        (VIEWS, "# case: dunder_str"),
        6,
    ),
    "template_loop": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (f"{TEMPLATES}/books.html", "{{ book.author.name }}</li>"),
        (VIEWS, "# origin: template_loop"),
        6,
    ),
    "list_view_model": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (f"{TEMPLATES}/books.html", "{{ book.author.name }}</li>"),
        (VIEWS, "# origin: list_view_model"),
        6,
    ),
    "base_rendered_list": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (f"{TEMPLATES}/books.html", "{{ book.author.name }}</li>"),
        (VIEWS, "# origin: base_rendered_list"),
        6,
    ),
    "template_method": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(reviews_count=Count("reviews"))',
        (f"{TEMPLATES}/book_totals.html", "reviews</li>"),
        (VIEWS, "# origin: template_method"),
        6,
    ),
    "template_tag": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (f"{TEMPLATES}/book_tags.html", "{% author_of book %}</li>"),
        (VIEWS, "# origin: template_tag"),
        6,
    ),
    "nested_count": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(reviews_count=Count("reviews"))',
        (VIEWS, "# case: nested_count"),
        (VIEWS, "# case: nested_count"),
        6,
    ),
    "nested_all": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.prefetch_related(Prefetch("books", queryset=Book.objects.annotate(reviews_count=Count("reviews"))))',
        (VIEWS, "# case: nested_all"),
        (VIEWS, "# origin: nested_all"),
        6,
    ),
    "nested_filtered": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related("tags")',
        (VIEWS, "# case: nested_filtered"),
        (VIEWS, "# case: nested_filtered"),
        6,
    ),
    "join_lookup": (
        "corpus.Author",
        "books",
        "books__reviews",
        '.annotate(rating__avg=Avg("books__reviews__rating"))',
        (VIEWS, "# case: join_lookup"),
        (VIEWS, "# origin: join_lookup"),
        5,
    ),
    "membership": (
        "corpus.Book",
        "tags",
        "tags",
        '.annotate(has_tags=Exists(Tag.objects.filter(books=OuterRef("pk"), pk=self.pk)))',
        (MODELS, "# case: membership"),
        (VIEWS, "# origin: membership"),
        6,
    ),
    "membership_joined": (
        "corpus.Review",
        "book",
        "book__tags",
        '.annotate(has_tags=Exists(Tag.objects.filter(books=OuterRef("book"), pk=self.pk)))',
        (MODELS, "# case: membership"),
        (VIEWS, "# origin: membership_joined"),
        12,
    ),
    "membership_prefix": (
        "corpus.Review",
        "book",
        "book__tags",
        '.annotate(has_tags=Exists(Tag.objects.filter(books=OuterRef("book"), pk=self.pk)))',
        (MODELS, "# case: membership"),
        (VIEWS, "# origin: membership_prefix"),
        12,
    ),
    "ordered_count": (
        "corpus.Publisher",
        "authors",
        "authors",
        '.annotate(authors_count=Count("authors")).order_by("-name")',
        (VIEWS, "# case: ordered_count"),
        (VIEWS, "# case: ordered_count"),
        3,
    ),
    "ordered_set": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="prefetched_tags"))',
        (VIEWS, "# case: ordered_set"),
        (VIEWS, "# case: ordered_set"),
        6,
    ),
    # One row of each set read per row, in reverse (`latest("id")` orders by -id): that row is
    # prefetched alone, in the statement's order, not every row of the set.
    "latest_per_row": (
        "corpus.Author",
        "books",
        "books",
        '.prefetch_related(Prefetch("books", queryset=Book.objects.order_by("-id")[:1], to_attr="prefetched_books"))',
        (VIEWS, "# case: latest_per_row"),
        (VIEWS, "# case: latest_per_row"),
        5,
    ),
    "drf/method-ordered": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="prefetched_tags"))',
        (SERIALIZERS, "# case: drf_method_ordered"),
        (DRF_VIEWS, "# origin: drf_method_ordered"),
        6,
    ),
    "default_accessor_count": (
        "corpus.Book",
        "note_set",
        "note_set",
        '.annotate(note_set_count=Count("note"))',
        (VIEWS, "# case: default_accessor"),
        (VIEWS, "# case: default_accessor"),
        6,
    ),
    "default_accessor_lookup": (
        "corpus.Book",
        "note_set",
        "note_set",
        '.annotate(note_set_count=Count("note"))',
        (VIEWS, "# case: default_accessor_lookup"),
        (VIEWS, "# case: default_accessor_lookup"),
        6,
    ),
    "drf/nested": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (SERIALIZERS, "# case: drf_nested"),
        (DRF_VIEWS, "# origin: drf_nested"),
        6,
    ),
    "drf/project_paginator": (
        "corpus.Book",
        "author",
        "author",
        '.select_related("author")',
        (SERIALIZERS, "# case: drf_nested"),
        (DRF_VIEWS, "# origin: drf_project_paginator"),
        6,
    ),
    "drf/m2m": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related("tags")',
        (SERIALIZERS, "# case: drf_m2m"),
        (DRF_VIEWS, "# origin: drf_m2m"),
        6,
    ),
    "drf/dotted": (
        "corpus.Book",
        "author",
        "author__publisher",
        '.select_related("author__publisher")',
        (SERIALIZERS, "# case: drf_dotted"),
        (DRF_VIEWS, "# origin: drf_dotted"),
        12,
    ),
    "drf/string-related": (
        "corpus.Review",
        "book",
        "book__author",
        '.select_related("book__author")',
        (SERIALIZERS, "# case: drf_string_related"),
        (DRF_VIEWS, "# origin: drf_string_related"),
        24,
    ),
    "drf/method-count": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(review_count=Count("reviews"))',
        (SERIALIZERS, "# case: drf_method_count"),
        (DRF_VIEWS, "# origin: drf_method_count"),
        6,
    ),
    "drf/lookup-exists": (
        "corpus.Book",
        "reviews",
        "reviews",
        '.annotate(has_approved=Exists(Review.objects.filter(book=OuterRef("pk"), approved=True)))',
        (SERIALIZERS, "# case: drf_lookup_exists"),
        (DRF_VIEWS, "# origin: drf_lookup_exists"),
        6,
    ),
    "drf/wrapped": (
        "corpus.Book",
        "tags",
        "tags",
        '.prefetch_related("tags")',
        (SERIALIZERS, "# case: drf_m2m"),
        (DRF_VIEWS, "# origin: drf_wrapped"),
        6,
    ),
}


@pytest.mark.parametrize("case", sorted(N_PLUS_ONE))
def test_corpus_nplusone_exact(case: str) -> None:
    model, field, path, code, callsite, origin, repeats = N_PLUS_ONE[case]
    [finding] = findings_for(f"/corpus/{case}/")
    assert finding.kind == "n_plus_one"
    assert (finding.model, finding.field, finding.path) == (model, field, path)
    assert finding.fix is not None
    assert finding.fix.code == code
    assert str(finding.callsite) == site(*callsite)
    assert str(finding.origin) == site(*origin)
    assert finding.repeats == repeats
    assert finding.route == f"corpus/{case}/"


def test_corpus_a_count_of_rows_the_manager_filters_gets_no_annotation() -> None:
    """Memo's default manager excludes hidden memos: `book.memos.count()` leaves them out,
    `Count("memos")` would not. The finding stands, with no code rather than a wrong count."""
    [finding] = findings_for("/corpus/manager_filtered_count/")
    assert (finding.kind, finding.model, finding.field, finding.repeats) == (
        "n_plus_one",
        "corpus.Book",
        "memos",
        6,
    )
    assert finding.fix is None
    assert str(finding.callsite) == site(VIEWS, "# case: manager_filtered")


def test_corpus_a_unapproved_review_bypasses_the_prefetch_and_says_so() -> None:
    """`book.reviews.get(…)` on prefetched reviews queries anyway: its fix is a filtered
    Prefetch, never the plain prefetch that is already there."""
    [finding] = findings_for("/corpus/unapproved_review/")
    assert finding.message.startswith("N+1: Book.reviews.get() runs once per Book row")
    assert "a prefetch of reviews exists, but .get()/.first() bypasses it" in finding.message
    assert finding.fix is not None
    assert finding.fix.code == (
        '.prefetch_related(Prefetch("reviews", queryset=Review.objects.filter(approved=False), '
        'to_attr="filtered_reviews"))'
    )


def test_corpus_prefetch_bypassed_says_so() -> None:
    [finding] = findings_for("/corpus/prefetch_bypassed/")
    assert "a prefetch of reviews exists, but .filter() bypasses it" in finding.message
    assert finding.fix is not None
    assert finding.fix.note.startswith('prefetch_related("reviews") is already there')


def test_corpus_membership_test_reads_the_rows_side() -> None:
    [finding] = findings_for("/corpus/membership/")
    assert finding.message.startswith("N+1: Book.tags.exists() runs once per Book row (6 queries)")
    assert finding.fix is not None
    assert finding.fix.note == (
        "self is the same Tag for every row: use it where the Book rows are queried, "
        "then read has_tags on each row."
    )


def test_corpus_membership_rows_come_through_the_path_read() -> None:
    """`book` and `review__book` both reach Book; the code read through `book`."""
    nplusone, unused = findings_for("/corpus/membership_two_paths/")
    assert (nplusone.kind, nplusone.model, nplusone.path) == (
        "n_plus_one",
        "corpus.Loan",
        "book__tags",
    )
    assert nplusone.fix is not None
    assert nplusone.fix.code == (
        '.annotate(has_tags=Exists(Tag.objects.filter(books=OuterRef("book"), pk=self.pk)))'
    )
    assert str(nplusone.origin) == site(VIEWS, "# origin: membership_two_paths")
    assert (unused.kind, unused.path) == ("unused_eager_load", "review__book")


def test_corpus_chain_is_one_finding_with_arrows() -> None:
    [finding] = findings_for("/corpus/chain2/")
    assert finding.message.startswith(
        "N+1: Review.book → Book.author runs once per Review row (24 queries)"
    )


@pytest.mark.parametrize("case", ["eager_full", "bounded_loop", "some_rows", "inherited_read"])
def test_corpus_negatives_have_no_findings(case: str) -> None:
    assert findings_for(f"/corpus/{case}/") == []


def test_corpus_detail_view_has_no_findings() -> None:
    from tests.corpus.models import Book

    assert findings_for(f"/corpus/detail/{Book.objects.order_by('id').first().pk}/") == []  # type: ignore[union-attr]


def test_corpus_detail_view_lazy_reads_are_joined_and_annotated_in_its_query() -> None:
    from tests.corpus.models import Book

    pk = Book.objects.order_by("id").first().pk  # type: ignore[union-attr]
    found = findings_for(f"/corpus/detail_lazy/{pk}/")
    assert [(f.kind, f.model, f.path, f.repeats, f.fix.code if f.fix else "") for f in found] == [
        (
            "lazy_relation",
            "corpus.Book",
            "author__publisher__country",
            3,
            '.select_related("author__publisher__country")',
        ),
        (
            "lazy_relation",
            "corpus.Book",
            "reviews",
            1,
            '.annotate(reviews_count=Count("reviews", filter=Q(reviews__approved=True)))',
        ),
    ]
    assert [str(f.callsite) for f in found] == [
        site(VIEWS, "# case: detail_lazy"),
        site(VIEWS, "# case: detail_lazy_count"),
    ]
    assert {str(f.origin) for f in found} == {site(VIEWS, "# origin: detail_lazy")}


@pytest.mark.parametrize(
    ("url", "callsites"),
    [
        ("/corpus/two_routes/", [(VIEWS, "# case: two_routes")] * 2),
        (
            "/corpus/two_routes_template/",
            [(TEMPLATES + "/loans.html", "</li>")] * 2,
        ),
    ],
)
def test_corpus_one_statement_through_two_relations_on_one_line_is_told_apart(
    url: str, callsites: list[tuple[str, str]]
) -> None:
    """Loan.book and Review.book are the same statement (a Book by its id), read on one line:
    each run is attributed to the relation that ran it, so each relation is its own finding."""
    found = findings_for(url)
    assert [(f.path, f.repeats, f.fix.code if f.fix else "") for f in found] == [
        ("book", 4, '.select_related("book")'),
        ("review__book", 8, '.select_related("review__book")'),
    ]
    assert [str(f.callsite).split(":")[:2] for f in found] == [
        [file, str(line_of(file, marker))] for file, marker in callsites
    ]


def test_an_eager_load_is_named_where_it_is_asked_for_and_judged_by_every_use_of_it(
    tmp_path: Any,
) -> None:
    """A model's property builds the queryset, two views run it: the unused join is named at the
    property (where it is removed), and a report that also holds the view that reads the authors
    calls it used (removing it would cost that view a query per book)."""
    from perftoolkit.middleware.recording import build_report
    from tests.support.corpus import recorded_lines

    [unused] = findings_for("/corpus/catalogue_titles/")
    assert (unused.kind, unused.path) == ("unused_eager_load", "author")
    assert str(unused.callsite) == site(MODELS, "# eager: site")
    assert findings_for("/corpus/catalogue_authors/") == []
    recorded_lines(tmp_path, "/corpus/catalogue_titles/", "/corpus/catalogue_authors/")
    assert [f.kind for f in build_report(tmp_path).findings] == []


def test_corpus_a_count_of_an_eager_queryset_is_not_an_unused_eager_load() -> None:
    """Named where select_related() is asked for, not where a helper runs the queryset."""
    found = findings_for("/corpus/count_then_rows/")
    assert [(f.kind, f.path, str(f.callsite)) for f in found] == [
        ("unused_eager_load", "author", site(VIEWS, "# eager: rows"))
    ]


def test_corpus_a_feeds_rows_have_no_origin_line_library_code_ran_their_query() -> None:
    [finding] = findings_for("/corpus/book_feed/")
    assert (finding.path, finding.repeats, str(finding.callsite), finding.origin) == (
        "author",
        6,
        site(VIEWS, "# case: book_feed"),
        None,
    )


def test_corpus_a_method_a_template_calls_gives_its_own_filters_to_the_fix() -> None:
    """`{{ book.approved_reviews }}` runs `self.reviews.filter(approved=True).count()`: the
    callsite is the template's line, the filter is the method's, and the fix keeps it."""
    [finding] = findings_for("/corpus/template_filter/")
    assert finding.fix is not None
    assert finding.fix.code == (
        '.annotate(reviews_count=Count("reviews", filter=Q(reviews__approved=True)))'
    )
    assert str(finding.callsite).startswith(f"{TEMPLATES}/approved.html:3")
    assert str(finding.origin) == site(VIEWS, "# origin: template_filter")


def test_corpus_bulk_operations_have_no_nplusone() -> None:
    findings = findings_for("/corpus/bulk/")
    assert [f.kind for f in findings] == ["write_on_read"] * len(findings)
    # One finding per statement shape: the batched INSERT (5 runs), the UPDATE, and the DELETE,
    # which cascades to the tags' two through tables (books, similar tags) first.
    assert [(f.sql_example or "").split()[0] for f in findings] == [
        "INSERT",
        "UPDATE",
        "DELETE",
        "DELETE",
        "DELETE",
    ]
    assert [f.repeats for f in findings] == [5, 1, 1, 1, 1]


def test_corpus_unused_select_related() -> None:
    [finding] = findings_for("/corpus/unused_select/")
    assert (finding.kind, finding.model, finding.field, finding.path) == (
        "unused_eager_load",
        "corpus.Book",
        "author",
        "author",
    )
    assert finding.fix is not None
    assert finding.fix.code == 'remove "author" from .select_related(...)'
    assert str(finding.callsite) == site(VIEWS, "# case: unused_select")


def test_corpus_unused_nested_select_related() -> None:
    [finding] = findings_for("/corpus/unused_nested_select/")
    assert (finding.kind, finding.model, finding.path) == (
        "unused_eager_load",
        "corpus.Review",
        "book__author__publisher",
    )
    assert finding.fix is not None
    assert finding.fix.code == (
        'remove "book__author__publisher" (and "book", "book__author", if listed)'
        " from .select_related(...)"
    )
    assert str(finding.callsite) == site(VIEWS, "# case: unused_nested_select")


def test_corpus_unused_prefetch_related() -> None:
    [finding] = findings_for("/corpus/unused_prefetch/")
    assert (finding.kind, finding.model, finding.path) == (
        "unused_eager_load",
        "corpus.Book",
        "tags",
    )
    assert finding.fix is not None
    assert finding.fix.code == 'remove "tags" from .prefetch_related(...)'
    assert str(finding.callsite) == site(VIEWS, "# case: unused_prefetch")


def test_corpus_a_prefetch_read_from_the_rows_cache_is_used() -> None:
    """A serializer that reads `_prefetched_objects_cache` itself (and queries without it) uses
    the prefetch: removing it, as an unused eager load's fix says, would run a query per row."""
    assert findings_for("/corpus/prefetch_cache_read/") == []
    # What it read is all the prefetch holds: the rows' cache stays a dict for everything else.
    import copy
    import pickle

    from perftoolkit.middleware.capture.capture import capture_queries
    from tests.corpus.models import Book

    with capture_queries():
        book = list(Book.objects.prefetch_related("reviews").order_by("id"))[0]
    watched = book._prefetched_objects_cache
    assert type(watched) is not dict
    assert list(watched) == ["reviews"]
    assert type(pickle.loads(pickle.dumps(book))._prefetched_objects_cache) is dict
    assert type(copy.deepcopy(book)._prefetched_objects_cache) is dict


def test_corpus_duplicate_query() -> None:
    [finding] = findings_for("/corpus/duplicate/")
    assert (finding.kind, finding.model, finding.repeats) == ("duplicate_query", "corpus.Tag", 2)
    assert str(finding.callsite) == site(VIEWS, "# case: duplicate")
    assert site(VIEWS, "# case: duplicate-again") in finding.message


def test_corpus_duplicate_relation_read_is_fixed_with_the_relation() -> None:
    [finding] = findings_for("/corpus/shared_fk_pair/")
    assert (finding.kind, finding.repeats) == ("duplicate_query", 2)
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("author")'
    assert str(finding.callsite) == site(VIEWS, "# case: shared_fk_pair")


def test_corpus_write_on_read() -> None:
    [finding] = findings_for("/corpus/write_on_get/")
    assert (finding.kind, finding.model, finding.severity) == (
        "write_on_read",
        "corpus.Tag",
        "error",
    )
    assert str(finding.callsite) == site(VIEWS, "# case: write_on_get")
    # MySQL quotes names with backticks.
    assert (finding.sql_example or "").replace("`", '"') == (
        'UPDATE "corpus_tag" SET "name" = ? WHERE "corpus_tag"."name" = ?'
    )


def test_corpus_a_write_in_a_models_save_names_the_line_that_called_save(tmp_path: Any) -> None:
    """The write's first project line is the model's save() override; the view line that called
    save() on a GET is named with it, and recorded (a report built from the line says the same)."""
    from perftoolkit.middleware.recording import build_report
    from tests.support.corpus import recorded_lines

    [finding] = findings_for("/corpus/write_in_save/")
    saved, called = site(MODELS, "# model: Note.save"), site(VIEWS, "# case: write_in_save")
    assert str(finding.callsite) == saved
    assert finding.message == (
        f"GET corpus/write_in_save/ writes: UPDATE on corpus_note at {saved} (save), called from "
        f"{called} (write_in_save). A read should not change rows; it also makes the response "
        "uncacheable."
    )
    [line] = recorded_lines(tmp_path, "/corpus/write_in_save/")
    [update] = [q for q in line["queries"] if len(q) > 6 and "caller" in q[6]]
    assert line["sites"][update[6]["caller"]]["line"] == line_of(VIEWS, "# case: write_in_save")
    [recorded] = [f for f in build_report(tmp_path).findings if f.kind == "write_on_read"]
    assert recorded.message == finding.message


def test_corpus_a_write_not_in_a_models_method_names_no_caller() -> None:
    [finding] = findings_for("/corpus/write_on_get/")
    assert "called from" not in finding.message


# Logged in by session, as a browser is: authentication loads the user before the view runs.
SESSION_MIDDLEWARE = [
    "perftoolkit.middleware.QueryBudgetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def logged_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_corpus_dotted_source_to_the_user_is_one_chain(settings: Any) -> None:
    """`source="student.user.first_name"` behind a session login: authenticating ran the very
    statement `student.user` runs per row, first; it is not one of the rows' queries."""
    settings.MIDDLEWARE = SESSION_MIDDLEWARE
    [finding] = findings_for("/corpus/drf/session-enrollments/", logged_in("reader0"))
    assert (finding.model, finding.field, finding.path) == (
        "corpus.Enrollment",
        "student",
        "student__user",
    )
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("student__user")'
    assert str(finding.callsite) == site(SERIALIZERS, "# case: drf_source_chain")
    assert str(finding.origin) == site(DRF_VIEWS, "# origin: drf_source_chain")
    assert finding.repeats == 12
    # The fix pastes as printed: the path exists from the rows' model.
    assert len(Enrollment.objects.order_by("id").select_related("student__user")) == 6


def test_corpus_origin_is_the_branch_that_loaded_the_rows(settings: Any) -> None:
    """get_queryset fixed for students; staff get `super().get_queryset()`, the class's
    `queryset`, which is where their N+1's rows come from."""
    settings.MIDDLEWARE = SESSION_MIDDLEWARE
    [finding] = findings_for("/corpus/drf/staff-branch/", logged_in("staff"))
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("student__user")'
    assert str(finding.origin) == site(DRF_VIEWS, "# origin: drf_staff_branch")
    assert finding.repeats == 12


def test_corpus_fixed_branch_has_no_findings(settings: Any) -> None:
    settings.MIDDLEWARE = SESSION_MIDDLEWARE
    assert findings_for("/corpus/drf/staff-branch/", logged_in("reader0")) == []


def _installed_template(
    settings: Any,
    tmp_path: Any,
    name: str,
    loop: str,
    row: str = "{{ book.author.name }}",
    end: str = "{% endfor %}",
) -> None:
    """`shelf/<name>`, an installed app's template (under site-packages) that lists the books
    (`row` for each, their authors by default), starting with `loop`."""
    library = tmp_path / "site-packages" / "shelf" / "templates"
    (library / "shelf").mkdir(parents=True)
    (library / "shelf" / name).write_text(f"{loop}\n<li>{row}</li>\n{end}\n")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], library]}
    ]


def test_corpus_installed_template_is_never_a_callsite_or_origin(
    settings: Any, tmp_path: Any
) -> None:
    """A template under site-packages is skipped like a library's Python frames: the project
    template line that includes it is the callsite, the view's render call the origin."""
    _installed_template(settings, tmp_path, "books.html", "{% for book in books %}")
    [finding] = findings_for("/corpus/library_template/")
    assert (finding.kind, finding.model, finding.path) == ("n_plus_one", "corpus.Book", "author")
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("author")'
    assert str(finding.callsite) == f"{TEMPLATES}/library_outer.html:2"
    assert finding.callsite is not None
    assert finding.callsite.function == 'include "shelf/books.html"'
    assert str(finding.origin) == site(VIEWS, "# origin: library")


def test_corpus_a_project_template_that_only_extends_a_library_one_is_not_the_callsite(
    settings: Any, tmp_path: Any
) -> None:
    """The project template's `{% extends %}` of an installed app's template renders all of it:
    that line holds nothing to change, so the view's render call is named, as for library code."""
    _installed_template(settings, tmp_path, "base.html", "<ul>\n{% for book in books %}")
    [finding] = findings_for("/corpus/library_extends/")
    assert (finding.kind, finding.model, finding.path) == ("n_plus_one", "corpus.Book", "author")
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("author")'
    assert str(finding.callsite) == site(VIEWS, "# case: library_extends")
    assert str(finding.origin) == str(finding.callsite)


def test_corpus_a_project_block_an_installed_template_fills_is_not_the_callsite(
    settings: Any, tmp_path: Any
) -> None:
    """An installed app's template fills the project's `{% block content %}` (the admin's change
    list inside a project's admin/base.html): what runs there is the installed template's, so the
    project code it calls (`Book.__str__`) is named, not the block."""
    _installed_template(
        settings,
        tmp_path,
        "list.html",
        '{% extends "corpus/frame.html" %}{% block content %}{% for book in books %}',
        "{{ book }}",
        "{% endfor %}{% endblock %}",
    )
    [finding] = findings_for("/corpus/library_block/")
    assert (finding.kind, finding.model, finding.path) == ("n_plus_one", "corpus.Book", "author")
    assert str(finding.callsite) == site(MODELS, "# case: dunder_str")
    assert str(finding.origin) == site(VIEWS, "# origin: library_block")


def test_corpus_a_foreign_key_that_stays_the_same_is_not_the_relation_read_per_row() -> None:
    """`Review.objects.filter(book=first, rating__gte=b.pk).count()` per book: the key is the
    same in every run, the rating varies. It is not Book.reviews counted per row (an annotation
    counting each book's own reviews would give other numbers)."""
    [finding] = findings_for("/corpus/constant_key/")
    assert (finding.kind, finding.path, finding.fix, finding.repeats) == (
        "n_plus_one",
        None,
        None,
        6,
    )
    assert finding.message == (
        "N+1: the same query of Review rows ran 6 times at "
        f"{site(VIEWS, '# case: constant_key')} with different parameters; load the rows once "
        "(in_bulk, a prefetch or an annotation) instead of once per row."
    )


def test_corpus_a_key_another_row_holds_names_that_row_and_its_annotation_counts_the_same() -> None:
    """`Loan.objects.filter(book=r.book)` per review: one N+1 loads each review's book, the other
    counts the book's loans per review. The count's fix annotates the reviews through the book,
    and gives every review the number the loop counted."""
    book, count = findings_for("/corpus/sibling_count_loaded/")
    assert (book.model, book.path, book.fix and book.fix.code) == (
        "corpus.Review",
        "book",
        '.select_related("book")',
    )
    assert (count.model, count.path, count.repeats) == ("corpus.Review", "book__loans", 12)
    assert str(count.origin) == site(VIEWS, "# origin: sibling_count_loaded")
    assert count.message == (
        f"N+1: Review.book__loans.count() runs once per Review row (12 queries) at "
        f"{site(VIEWS, '# case: sibling_count_loaded')}; add "
        '.annotate(loans_count=Count("book__loans")) where the Review rows are queried '
        f"({site(VIEWS, '# origin: sibling_count_loaded')})."
    )
    from django.db.models import Count

    from tests.corpus.models import Loan

    looped = [Loan.objects.filter(book=r.book).count() for r in Review.objects.order_by("id")]
    annotated = Review.objects.annotate(loans_count=Count("book__loans")).order_by("id")
    assert [r.loans_count for r in annotated] == looped
    assert sorted(set(looped)) == [0, 1]  # some reviews' books have a loan, others none


def test_corpus_a_model_admins_rows_are_queried_in_its_get_queryset_and_joined_in_its_list() -> (
    None
):
    """A view Django serves for a ModelAdmin (`model_admin` on the view): its get_queryset is
    where the rows are built, and in a change list a join goes in list_select_related, since the
    change list replaces a get_queryset's select_related with its own."""
    [finding] = findings_for("/corpus/admin_changelist/")
    assert (finding.kind, finding.path, finding.repeats) == ("n_plus_one", "author", 6)
    assert str(finding.callsite) == site(VIEWS, "# case: admin_changelist")
    assert str(finding.origin) == site(VIEWS, "# origin: admin_changelist")
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("author")'
    assert finding.fix.note == (
        'in the ModelAdmin, list_select_related = ("author", …) with every other relation its '
        "list_display reads: with list_select_related False, the change list replaces the "
        "select_related of get_queryset with its own"
    )
    assert finding.message.endswith(
        f'add .select_related("author") where the Book rows are queried ({finding.origin}), or '
        f"{finding.fix.note}."
    )


def test_a_filter_by_a_variable_the_rows_line_does_not_have_gets_no_code() -> None:
    """`self.reviews.filter(rating__gte=threshold)` in a model method, per book: `threshold` is
    the method's parameter, unknown where the view queries the books."""
    [finding] = findings_for("/corpus/local_value_elsewhere/")
    assert (finding.kind, finding.model, finding.path) == ("n_plus_one", "corpus.Book", "reviews")
    assert str(finding.callsite) == site(MODELS, "# model: ratings_over")
    assert finding.fix is None
    assert finding.message.endswith(
        "; read it in the query of the Book rows instead (an annotation or a prefetch) where the "
        f"Book rows are queried ({finding.origin})."
    )


def test_two_serializer_fields_reading_one_statement_through_one_project_line_are_told_apart() -> (
    None
):
    """A project base's to_representation renders every nested field: each loan's book and its
    review's book run the same statement from that one project line. Each field's reads are its
    own relation: Loan.book, and Loan.review → Review.book."""
    found = findings_for("/corpus/drf/shared/")
    ser = "tests/corpus/serializers.py"
    assert [
        (f.kind, f.model, f.path, f.repeats, f.fix.code if f.fix else "", str(f.callsite))
        for f in found
    ] == [
        (
            "n_plus_one",
            "corpus.Loan",
            "book",
            4,
            '.select_related("book")',
            site(ser, "# case: drf_shared_loan_book"),
        ),
        (
            "n_plus_one",
            "corpus.Loan",
            "review__book",
            8,
            '.select_related("review__book")',
            site(ser, "# case: drf_shared_review"),
        ),
    ]
    assert {str(f.origin) for f in found} == {site(DRF_VIEWS, "# origin: drf_shared")}


def test_two_relations_of_rows_one_lazy_relation_loads_are_two_findings() -> None:
    """Each enrollment's student (loaded per row) has its user read and its enrollments counted:
    two chains from one link, each with its own fix; the students' queries are counted once."""
    found = findings_for("/corpus/forked_chain/")
    assert [(f.path, f.repeats, f.fix.code if f.fix else "") for f in found] == [
        ("student__user", 12, '.select_related("student__user")'),
        ("student__enrollments", 6, '.annotate(enrollments_count=Count("student__enrollments"))'),
    ]
    assert {str(f.origin) for f in found} == {site(VIEWS, "# origin: forked_chain")}
    assert {str(f.callsite) for f in found} == {site(VIEWS, "# case: forked_chain")}
    from django.db.models import Count

    looped = [e.student.enrollments.count() for e in Enrollment.objects.order_by("id")]
    fixed = Enrollment.objects.annotate(enrollments_count=Count("student__enrollments"))
    assert [e.enrollments_count for e in fixed.order_by("id")] == looped


def test_a_reports_change_list_gets_the_change_lists_remedy(tmp_path: Any) -> None:
    """A report built from the recording says what MODE "log" says: the detectors know the view
    of the request's shape (a change list is known by it)."""
    from perftoolkit.middleware.recording import build_report
    from tests.support.corpus import recorded_lines

    [logged] = findings_for("/corpus/admin_changelist/")
    recorded_lines(tmp_path, "/corpus/admin_changelist/")
    [reported] = [f for f in build_report(tmp_path).findings if f.kind == "n_plus_one"]
    assert reported.fix is not None
    assert logged.fix is not None
    assert reported.fix.note == logged.fix.note
    assert reported.fix.note.startswith('in the ModelAdmin, list_select_related = ("author", …)')
    assert reported.message == logged.message


@pytest.mark.parametrize("case", ["eager_empty", "eager_other_rows"])
def test_corpus_rows_not_built_by_an_eager_load_are_not_attributed_to_it(case: str) -> None:
    """Loan.select_related("book") reaches Book, but the Book rows whose reviews are read come
    from another queryset: the finding names those rows and their line, not the eager load."""
    [finding] = [f for f in findings_for(f"/corpus/{case}/") if f.kind == "n_plus_one"]
    assert (finding.model, finding.field, finding.path, finding.repeats) == (
        "corpus.Book",
        "reviews",
        "reviews",
        6,
    )
    assert finding.fix is not None
    assert finding.fix.code == '.prefetch_related("reviews")'
    assert str(finding.callsite) == site(VIEWS, f"# case: {case}")
    assert str(finding.origin) == site(VIEWS, f"# origin: {case}")
    assert finding.message == (
        f"N+1: Book.reviews runs once per Book row (6 queries) at {finding.callsite}; add "
        f'.prefetch_related("reviews") where the Book rows are queried ({finding.origin}).'
    )


def test_corpus_one_objects_relation_read_again_is_a_duplicate_not_an_nplusone() -> None:
    findings = findings_for("/corpus/same_object_repeat/")
    assert [(f.kind, f.repeats, str(f.callsite)) for f in findings] == [
        ("duplicate_query", 6, site(VIEWS, "# case: same_object_m2m")),
        ("duplicate_query", 6, site(VIEWS, "# case: same_object_fk")),
    ]
    assert findings[0].message == (
        f"The same query of Book_tags rows with the same parameters ran 6 times at "
        f"{findings[0].callsite}; "
        "run it once and reuse the result."
    )


def test_corpus_a_tags_render_line_is_not_where_the_rows_are_queried() -> None:
    """The Book rows are queried in a template Django rendered; the partial's render line in the
    tag builds no queryset, and no frame that does is known: no origin, rather than a wrong one."""
    [finding] = findings_for("/corpus/partial_per_row/")
    assert (finding.kind, finding.model, finding.path, finding.repeats) == (
        "n_plus_one",
        "corpus.Book",
        "author",
        6,
    )
    assert finding.origin is None
    assert str(finding.callsite) == "tests/templates/corpus/book_row.html:1"
    assert finding.message == (
        f"N+1: Book.author runs once per Book row (6 queries) at {finding.callsite}; add "
        '.select_related("author").'
    )


def test_corpus_view_classes_name_their_rows_model() -> None:
    from perftoolkit.middleware.capture.profile import queryset_model
    from tests.corpus import drf_views, views

    assert queryset_model(views.ListViewModel) == "corpus.Book"  # model =
    assert queryset_model(drf_views.SessionEnrollments) == "corpus.Enrollment"  # queryset =
    assert queryset_model(views.fk) == ""  # a function view names none
    assert queryset_model(None) == ""


def test_a_managers_filter_on_the_relations_own_field_is_not_a_filter() -> None:
    """django-scopes' manager adds `event=<the scope's event>`: on a set of one event's rows
    (the relation follows `event` back) those are the same rows, and Count over it is exact."""
    from perftoolkit.middleware.capture.attribution import _constrains_other_than

    def where(queryset: Any) -> Any:
        return queryset.query.where

    assert not _constrains_other_than(where(Review.objects.filter(book=1)), "book")
    assert _constrains_other_than(where(Review.objects.filter(book=1, approved=True)), "book")
    assert _constrains_other_than(where(Review.objects.filter(book__author=1)), "book")
    assert _constrains_other_than(where(Memo.objects.all()), "book")  # exclude(hidden=True)
    assert not _constrains_other_than(where(Review.objects.all()), "book")


def test_corpus_a_rows_own_relation_is_not_chained_to_a_relation_back_to_its_model() -> None:
    """A revision's topic's current revision is a revision: the revision's own previous revision
    and editor, read on the rows listed on other lines, are their own findings, not reads through
    the current revision (whose rows the capture tracks, once a relation leads back to the rows'
    model)."""
    found = findings_for("/corpus/revision_history/")
    assert [(f.path, f.fix.code if f.fix else "", f.repeats) for f in found] == [
        ("topic__current", '.select_related("topic__current")', 24),
        ("editor", '.select_related("editor")', 12),
        ("previous", '.select_related("previous")', 8),
    ]
    assert {str(f.origin) for f in found} == {site(VIEWS, "# origin: revision_history")}


def test_corpus_a_relation_read_on_a_relations_rows_of_the_same_model_is_a_chain() -> None:
    [finding] = findings_for("/corpus/revision_chain/")
    assert (finding.path, finding.fix.code if finding.fix else "") == (
        "previous__editor",
        '.select_related("previous__editor")',
    )


def test_corpus_a_chain_through_a_prefetched_set_runs_once_per_row_of_the_set() -> None:
    [finding] = findings_for("/corpus/prefetched_child_fk/")
    assert (finding.path, finding.fix.code if finding.fix else "") == (
        "loans__review",
        '.prefetch_related("loans__review")',
    )
    assert finding.message.startswith(
        "N+1: Book.loans → Loan.review runs once per Loan row (4 queries) at "
    )
    assert str(finding.origin) == site(VIEWS, "# origin: prefetched_child_fk")


def test_corpus_the_fix_for_one_row_per_row_reads_the_same_rows_in_one_query() -> None:
    """The printed fix for `latest_per_row`, applied: the same titles, from one query more than
    the authors' own, where the view ran one per author."""
    from django.db import connection
    from django.db.models import Prefetch
    from django.test.utils import CaptureQueriesContext

    from tests.corpus.models import Author, Book

    [finding] = findings_for("/corpus/latest_per_row/")
    assert finding.fix is not None
    assert 'queryset=Book.objects.order_by("-id")[:1]' in finding.fix.code
    expected = [a.books.latest("id").title for a in Author.objects.order_by("id")]
    with CaptureQueriesContext(connection) as queries:
        authors = Author.objects.order_by("id").prefetch_related(
            Prefetch("books", queryset=Book.objects.order_by("-id")[:1], to_attr="prefetched_books")
        )
        titles = [a.prefetched_books[0].title for a in authors]
    assert titles == expected
    assert len(queries) == 2
