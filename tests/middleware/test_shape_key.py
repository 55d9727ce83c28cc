"""MODE "log" looks each request's diagnosis up by `shape_key`, built without the record line:
requests with equal keys must have equal shapes (the line without its numbers), or a request
would be given another shape's findings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from perftoolkit.conf import override_mode, reset_settings
from perftoolkit.core.events import CallSite
from perftoolkit.middleware import query_budget
from perftoolkit.middleware.capture.capture import RawQuery
from perftoolkit.middleware.capture.profile import SHAPE_FIELDS, profile_line
from perftoolkit.middleware.detectors import Diagnosis, ShapeDiagnoses
from perftoolkit.middleware.record_lines import split
from tests.corpus.data import seed
from tests.corpus.models import Author, Book
from tests.support.recordings import PATHS

pytestmark = pytest.mark.django_db


def test_the_key_holds_every_field_a_line_shows_but_times_and_parameters() -> None:
    assert set(RawQuery.__dataclass_fields__) - set(SHAPE_FIELDS) == {"params", "ms", "template"}


def test_equal_keys_are_equal_shapes_and_a_view_keeps_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, Any, str]] = []  # (path, key, the line's shape as JSON)
    real = query_budget._diagnosis

    def watched(capture: Any, info: Any, profile: Any, line: Any, key: Any) -> Any:
        if key is not None:
            shape = profile_line(capture, *info)
            split(shape)
            seen.append((info.path, key, json.dumps(shape, sort_keys=True, default=str)))
        return real(capture, info, profile, line, key)

    monkeypatch.setattr(query_budget, "_diagnosis", watched)
    reset_settings()
    with transaction.atomic(), override_mode("log"):
        seed()
        client = Client(raise_request_exception=False)
        for _ in range(2):
            for path in PATHS:
                client.get(path)
        # One endpoint, other rows and other parameters: the same shape, whatever the target.
        for query in ("?page=2", "?page=3"):
            client.get(f"/corpus/chain2/{query}")
        transaction.set_rollback(True)
    assert len({path for path, _, _ in seen}) >= 40  # the corpus views that can show a finding
    shapes: dict[Any, set[str]] = {}
    keys: dict[str, set[Any]] = {}
    for _, key, shape in seen:
        shapes.setdefault(key, set()).add(shape)
        keys.setdefault(shape, set()).add(key)
    # Equal keys, equal shapes: never another shape's findings.
    assert {key: found for key, found in shapes.items() if len(found) > 1} == {}
    # And on these views the reverse: a request of a known shape finds it by its key.
    assert {shape: found for shape, found in keys.items() if len(found) > 1} == {}
    chain = [key for path, key, _ in seen if path == "/corpus/chain2/"]
    assert len(chain) == 4
    assert len(set(chain)) == 1


def varied(request: HttpRequest) -> HttpResponse:
    """One endpoint, shapes that differ only in what the key must tell apart."""
    kind = request.GET.get("v", "")
    books = list(Book.objects.order_by("id")[:4])
    for book in books:
        if kind == "other-line":
            Author.objects.filter(pk=book.author_id).first()  # the statement, from another line
            continue
        pk = books[0].author_id if kind == "same" else book.author_id  # equal parameters or not
        Author.objects.filter(pk=pk).first()
    return HttpResponse("ok")


urlpatterns = [path("varied/", varied)]


@override_settings(ROOT_URLCONF=__name__)
def test_one_endpoint_with_other_lines_or_parameters_has_other_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys: dict[str, Any] = {}
    real = query_budget._diagnosis

    def watched(capture: Any, info: Any, profile: Any, line: Any, key: Any) -> Any:
        keys[info.query_string] = key
        return real(capture, info, profile, line, key)

    monkeypatch.setattr(query_budget, "_diagnosis", watched)
    reset_settings()
    with transaction.atomic(), override_mode("log"):
        seed()
        assert len({b.author_id for b in Book.objects.order_by("id")[:4]}) == 4
        for kind in ("", "v=other-line", "v=same", "v=again"):
            Client().get(f"/varied/?{kind}")
        transaction.set_rollback(True)
    assert len({keys[""], keys["v=other-line"], keys["v=same"]}) == 3
    assert keys["v=again"] == keys[""]  # the same shape, by another query string


def test_a_key_that_cannot_be_hashed_is_looked_up_by_the_line() -> None:
    shapes = ShapeDiagnoses()
    built: list[int] = []

    def profile() -> Any:
        built.append(1)
        raise AssertionError("not built: the caller looks the request up by its line")

    site = CallSite("app/views.py", 3, "index")
    assert shapes.diagnose_key(("GET", "r/", [site]), profile) is None
    assert built == []
    known = Diagnosis([], [])
    shapes._keyed[("GET", "r/", (site,))] = known
    assert shapes.diagnose_key(("GET", "r/", (CallSite("app/views.py", 3, "index"),)), profile) is (
        known
    )
