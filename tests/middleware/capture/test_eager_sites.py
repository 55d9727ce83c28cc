"""Where eager loads were asked for: noted on the queryset while a capture is active."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture.capture import capture_queries
from perftoolkit.middleware.capture.eager_sites import KEY, eager_site
from perftoolkit.middleware.capture.profile import build_profile
from tests.corpus.data import seed
from tests.corpus.models import Book
from tests.support.corpus import line_of

pytestmark = pytest.mark.django_db
HERE = "tests/middleware/capture/test_eager_sites.py"


def test_the_line_that_asked_is_kept_through_later_clones() -> None:
    seed()
    with capture_queries():
        books = Book.objects.select_related("author")  # asked: here
        later = books.filter(title__startswith="b").order_by("id")
        rows = list(later)
    assert rows
    expected = CallSite(
        HERE,
        line_of(HERE, "# asked: here"),
        "test_the_line_that_asked_is_kept_through_later_clones",
    )
    assert eager_site(later) == expected
    # A plain tuple in the query: a cached queryset unpickles without perftoolkit's classes.
    assert type(later.query.__dict__[KEY]) is tuple
    assert eager_site(pickle.loads(pickle.dumps(later))) == expected


def test_outside_a_capture_nothing_is_noted() -> None:
    with capture_queries():
        pass  # the wrappers are installed by a capture
    books = Book.objects.prefetch_related("tags")
    assert KEY not in books.query.__dict__
    assert eager_site(books) is None


def test_each_lookup_is_placed_where_it_was_asked() -> None:
    function = "test_each_lookup_is_placed_where_it_was_asked"
    with capture_queries():
        books = Book.objects.select_related("author")  # asked: author
        later = books.prefetch_related("tags", "reviews__loans")  # asked: tags
    author = CallSite(HERE, line_of(HERE, "# asked: author"), function)
    tags = CallSite(HERE, line_of(HERE, "# asked: tags"), function)
    assert eager_site(later, "author") == author
    assert (eager_site(later, "tags"), eager_site(later, "reviews")) == (tags, tags)
    assert eager_site(later) == tags  # the last line that asked
    assert eager_site(later, "publisher") is None


def test_a_lookup_asked_outside_any_capture_is_not_placed_at_a_later_line() -> None:
    """A view's class attribute (`queryset = Book.objects.select_related("author")`) is built at
    import; a base view's get_queryset adds its own prefetch in the request: the first is not the
    base's to remove."""
    seed()
    with capture_queries():
        pass  # the wrappers are installed by a capture
    books = Book.objects.select_related("author")  # built at import time
    with capture_queries() as capture:
        rows = _evaluated(books.prefetch_related("tags").order_by("id"))  # asked: later
    assert rows
    [query] = [q for q in capture.queries if q.eager]
    later = CallSite(
        HERE,
        line_of(HERE, "# asked: later"),
        "test_a_lookup_asked_outside_any_capture_is_not_placed_at_a_later_line",
    )
    sites = dict(zip([path for _, path in query.eager], query.eager_sites, strict=True))
    assert sites == {"author": None, "tags": later}
    profile = build_profile(capture, method="GET", route="books/")
    # The select_related was asked where no capture saw: not at the line that asked for the
    # prefetch, nor at the helper that evaluates the rows it was handed (the view's queryset
    # places it, when there is a view).
    assert {load.path: load.callsite for load in profile.eager_loads} == {
        "author": None,
        "tags": later,
    }


def _evaluated(queryset: Any) -> list[Any]:
    return list(queryset)
