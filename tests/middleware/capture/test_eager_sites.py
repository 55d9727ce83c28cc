"""Where eager loads were asked for: noted on the queryset while a capture is active."""

from __future__ import annotations

import pickle

import pytest

from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture.capture import capture_queries
from perftoolkit.middleware.capture.eager_sites import KEY, eager_site
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
