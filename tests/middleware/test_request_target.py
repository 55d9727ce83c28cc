"""What a record line keeps of the request for `perf_fix` to replay it: path, query string, user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.test import Client, override_settings
from django.utils.functional import SimpleLazyObject

from perftoolkit.conf import reset_settings
from perftoolkit.core.events import RequestProfile
from perftoolkit.middleware.query_budget import _user_id
from tests.support.recordings import written_lines


@pytest.fixture
def record_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    return directory


def _line(directory: Path) -> dict[str, object]:
    [text] = written_lines(directory)
    data: dict[str, object] = json.loads(text)
    return data


@pytest.mark.django_db
def test_record_line_keeps_path_and_query_string(record_dir: Path) -> None:
    Client().get("/mw/regex/12/", {"page": "2", "q": "a b"})
    line = _line(record_dir)
    assert (line["path"], line["query"]) == ("/mw/regex/12/", "page=2&q=a+b")
    assert "user" not in line
    profile = RequestProfile.from_dict(line)
    assert (profile.path, profile.query_string, profile.user) == (
        "/mw/regex/12/",
        "page=2&q=a+b",
        None,
    )


@pytest.mark.django_db
def test_record_line_leaves_out_an_empty_query_string(record_dir: Path) -> None:
    Client().get("/mw/three/")
    line = _line(record_dir)
    assert line["path"] == "/mw/three/"
    assert "query" not in line


@pytest.mark.django_db
@override_settings(
    MIDDLEWARE=[
        "perftoolkit.middleware.QueryBudgetMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
)
def test_record_line_keeps_the_user_the_request_loaded(record_dir: Path) -> None:
    user = User.objects.create_user("reader", password="x")
    client = Client()
    client.force_login(user)
    client.get("/mw/whoami/")  # the view reads request.user
    client.get("/mw/three/")  # never touches request.user: the lazy user stays unloaded
    lines = [json.loads(t) for t in written_lines(record_dir)]
    assert [line.get("user") for line in lines] == [user.pk, None]


@pytest.mark.django_db
def test_user_id_reads_only_a_loaded_user(django_assert_num_queries: object) -> None:
    user = User.objects.create_user("someone", password="x")
    cached = HttpRequest()
    cached._cached_user = user  # type: ignore[attr-defined]
    assigned = HttpRequest()
    assigned.user = user  # what DRF's authentication sets
    lazy = HttpRequest()
    lazy.user = SimpleLazyObject(lambda: User.objects.get(pk=user.pk))
    anonymous = HttpRequest()
    anonymous.user = AnonymousUser()
    with django_assert_num_queries(0):  # type: ignore[operator]
        ids = [_user_id(r) for r in (cached, assigned, lazy, anonymous, HttpRequest())]
    assert ids == [user.pk, user.pk, None, None, None]
    lazy.user.pk  # noqa: B018 (the view loads it)
    assert _user_id(lazy) == user.pk
