"""`perf_profile scaffold` on tests/scaffoldsite: a task per route, values from real rows, a login
that the project accepts (checked by requesting every scaffolded path with it)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from perftoolkit.audit.options import ScaffoldOptions
from perftoolkit.audit.scaffold import PreparedProfile, prepare, prepare_for_audit, scaffold
from perftoolkit.core.runs.profiles import ProfileLogin
from perftoolkit.exceptions import ConfigurationError
from tests.corpus.data import seed
from tests.corpus.models import Author, Note
from tests.support.corpus import line_of

# The probe rolls back every database the process has connected to (the suite uses "other" too).
pytestmark = pytest.mark.django_db(databases=["default", "other"])

SESSIONS = [
    "perftoolkit.middleware.QueryBudgetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SITE = override_settings(ROOT_URLCONF="tests.scaffoldsite.urls", MIDDLEWARE=SESSIONS)
TOKENS = override_settings(
    ROOT_URLCONF="tests.scaffoldsite.urls",
    MIDDLEWARE=SESSIONS[:1],
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)


@pytest.fixture(autouse=True)
def _data(db: None) -> None:
    seed()


def staff() -> User:
    return User.objects.get(username="staff")


def prepared(user: Any = None, **options: Any) -> PreparedProfile:
    return prepare(ScaffoldOptions(**options), user)


def client_for(login: ProfileLogin) -> Client:
    client = Client(headers=dict(login.headers))
    for name, value in login.cookies:
        client.cookies[name] = value
    return client


@SITE
def test_scaffold_has_a_task_per_route_and_kind() -> None:
    profile = prepared(staff()).profile

    assert [(t.method, t.route, t.kind) for t in profile.tasks] == [
        ("GET", "api/books/", "list"),
        ("GET", "api/books/<pk>/", "detail"),
        ("GET", "api/books/<pk>/reviews/", "detail"),
        ("GET", "api/reviews/", "list"),
        ("GET", "api/reviews/<pk>/", "detail"),
        ("GET", "api/", "list"),
        ("GET", "api/authors/<str:name>/", "detail"),
        ("GET", "api/publishers/<int:publisher_pk>/books/", "list"),
        ("GET", "api/whoami/", "list"),
        ("GET", "tags/<int:pk>/", "detail"),
        ("GET", "countries/<int:country_pk>/", "detail"),
        ("GET", "archive/<int:year>/<int:month>/", "detail"),
        ("GET", "plans/<int:id>/view/", "detail"),
        ("GET", "books/<int:pk>/<slug:slug>/", "detail"),
        ("GET", "authors/<int:pk>/card/", "detail"),
        ("GET", "pages/<int:page_id>/", "detail"),
        ("GET", "sitemap-<section>.xml", "detail"),
        ("GET", "api/books/<int:book_pk>/notes/", "list"),
    ]
    assert [(s.method, s.route, s.reason) for s in profile.skipped] == [
        ("POST", "api/ping/", "does not answer GET (--writes adds DRF writes)"),
        ("POST", "pin/", "does not answer GET (--writes adds DRF writes)"),
        (
            "GET",
            "mystery/<slug:token>/",
            "nothing says what `token` takes (no model or field of that name)",
        ),
    ]


@SITE
def test_scaffold_fills_parameters_from_real_rows() -> None:
    tasks = {t.route: t for t in prepared(staff()).profile.tasks}
    today = datetime.date.today()

    assert tasks["api/books/<pk>/"].paths == tuple(f"/api/books/{n}/" for n in range(1, 7))
    assert tasks["api/authors/<str:name>/"].paths[:2] == (
        "/api/authors/author%200/",
        "/api/authors/author%201/",
    )
    # Through two foreign keys (Book.author.publisher): every publisher that has books.
    assert tasks["api/publishers/<int:publisher_pk>/books/"].paths == (
        "/api/publishers/1/books/",
        "/api/publishers/2/books/",
        "/api/publishers/3/books/",
    )
    assert tasks["api/publishers/<int:publisher_pk>/books/"].comment == (
        "tests.scaffoldsite.views.PublisherBooks; publisher_pk from corpus.Book.author.publisher"
    )
    assert tasks["countries/<int:country_pk>/"].paths == ("/countries/1/",)
    assert tasks["archive/<int:year>/<int:month>/"].paths == (f"/archive/{today:%Y}/{today:%m}/",)
    assert tasks["api/books/<pk>/reviews/"].comment == (
        "tests.scaffoldsite.views.BookViewSet.reviews; pk from corpus.Book rows"
    )


@SITE
def test_scaffold_reads_function_views_and_falls_back_to_parent_rows() -> None:
    Note.objects.all().delete()  # a list still empty: its parent's rows are the values

    tasks = {t.route: t for t in prepared(staff()).profile.tasks}

    # `get_object_or_404(Publisher, pk=id)` in the view says what `id` is.
    # In the model's own order (Publisher.Meta.ordering is "-name").
    assert tasks["plans/<int:id>/view/"].paths == (
        "/plans/3/view/",
        "/plans/2/view/",
        "/plans/1/view/",
    )
    assert tasks["plans/<int:id>/view/"].comment.endswith("id from corpus.Publisher rows")
    # The view never reads `slug`: any slug serves it.
    assert tasks["books/<int:pk>/<slug:slug>/"].paths[0] == "/books/1/x/"
    assert tasks["books/<int:pk>/<slug:slug>/"].comment.endswith(
        "pk from corpus.Book rows; slug: not read by the view"
    )
    # A class-based view that looks nothing up and never reads its kwargs: any id of its type.
    assert tasks["pages/<int:page_id>/"].paths == ("/pages/1/",)
    assert tasks["pages/<int:page_id>/"].comment.endswith("page_id: not read by the view")
    # The view's literal conditions choose the rows: only "author 3" answers.
    author = Author.objects.get(name="author 3")
    assert tasks["authors/<int:pk>/card/"].paths == (f"/authors/{author.pk}/card/",)
    assert tasks["sitemap-<section>.xml"].paths == ("/sitemap-books.xml", "/sitemap-tags.xml")
    notes = tasks["api/books/<int:book_pk>/notes/"]
    assert notes.paths == tuple(f"/api/books/{n}/notes/" for n in range(1, 7))
    assert notes.comment.endswith("book_pk from corpus.Book rows")


@SITE
def test_scaffold_leaves_out_format_suffixes_and_logout() -> None:
    assert prepared(staff()).left_out == {
        "format-suffix copies of routes": 6,
        "logging out or switching user": 2,
        "pages whose name says a GET changes data (delete, copy, toggle, …)": 1,
    }
    assert prepared(staff(), include=("logout",)).profile.routes == {("GET", "logout/")}


@SITE
def test_scaffold_session_login_answers_every_path_as_the_user() -> None:
    login = prepared(staff()).profile.login
    client = client_for(login)

    assert login.description == "a session cookie created for staff on this database"
    assert client.get("/api/whoami/").json() == {"username": "staff"}
    for task in prepared(staff()).profile.tasks:
        for path in task.paths:
            assert client.get(path).status_code == 200, path


@TOKENS
def test_scaffold_uses_the_drf_token_when_drf_authenticates_by_token() -> None:
    login = prepared(staff()).profile.login

    assert login.cookies == ()
    assert login.headers == (("Authorization", f"Token {Token.objects.get(user=staff()).key}"),)
    assert login.description == "the DRF token of staff"
    assert client_for(login).get("/api/whoami/").json() == {"username": "staff"}


@SITE
def test_scaffold_without_a_user_is_anonymous() -> None:
    profile = prepared().profile

    assert profile.login == ProfileLogin(
        "nobody (anonymous requests); pass --user to log in as someone"
    )
    assert "COOKIES = {}" in prepared().text


@SITE
def test_scaffold_writes_create_and_update_through_drf_only() -> None:
    profile = prepared(staff(), writes=True).profile
    writes = [(t.method, t.route, t.body, t.paths) for t in profile.tasks if t.kind == "write"]

    assert writes == [
        ("POST", "api/reviews/", '{"book": 1, "rating": 0}', ("/api/reviews/",)),
        ("PATCH", "api/reviews/<pk>/", '{"book": 1, "rating": 0}', ("/api/reviews/1/",)),
    ]
    assert ("DELETE", "api/reviews/<pk>/") in {(s.method, s.route) for s in profile.skipped}
    login = profile.login
    client = client_for(login)
    response = client.post(
        "/api/reviews/", {"book": 1, "rating": 4}, content_type="application/json"
    )
    assert response.status_code == 201  # the CSRF cookie and header pass Django's check


@SITE
def test_scaffold_include_and_exclude_filter_routes() -> None:
    profile = prepared(staff(), include=("^api/",), exclude=("reviews",)).profile

    assert [t.route for t in profile.tasks] == [
        "api/books/",
        "api/books/<pk>/",
        "api/",
        "api/authors/<str:name>/",
        "api/publishers/<int:publisher_pk>/books/",
        "api/whoami/",
        "api/books/<int:book_pk>/notes/",
    ]


@SITE
def test_scaffold_rejects_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--name '1x' cannot name a profile"):
        prepared(name="1x")
    with pytest.raises(ConfigurationError, match=r"--include '\(' is not a regular expression"):
        prepared(include=("(",))
    with pytest.raises(ConfigurationError) as info:
        scaffold(ScaffoldOptions(user="nobody", cwd=tmp_path))
    assert str(info.value).startswith(
        "--user nobody: no auth.User has username 'nobody' in the database of tests.settings."
    )


@SITE
def test_perf_profile_scaffold_writes_loadtests(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    out: Any = __import__("io").StringIO()

    call_command("perf_profile", "scaffold", "--user", "staff", "--name", "site", stdout=out)

    text = (tmp_path / "loadtests" / "site.py").read_text()
    assert text.splitlines()[9] == (
        "import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)"
    )
    assert out.getvalue().splitlines() == [
        "loadtests/site.py: 18 of 19 GET routes; logged in as staff; 1 GET route is listed as not "
        "scaffolded (at the end of the file); left out: format-suffix copies of routes (6), "
        "pages whose name says a GET changes data (delete, copy, toggle, …) (1), logging out or "
        "switching user (2).",
        "Run it: python manage.py perf_audit --profile site",
    ]
    with pytest.raises(CommandError) as info:
        call_command("perf_profile", "scaffold", "--name", "site", stdout=out)
    assert info.value.returncode == 1
    assert str(info.value) == (
        f"{tmp_path / 'loadtests' / 'site.py'} exists. Pass --force to replace it, or choose "
        "another --name."
    )


@SITE
def test_prepare_for_audit_logs_in_as_the_first_superuser(tmp_path: Path) -> None:
    User.objects.create(username="root", is_superuser=True, is_staff=True)

    profile = prepare_for_audit(None, tmp_path).profile

    assert (profile.name, profile.login.username) == ("scaffold", "root")


@override_settings(ROOT_URLCONF="tests.scaffoldsite.uninspectable_urls", MIDDLEWARE=SESSIONS)
def test_scaffold_lists_a_view_it_cannot_inspect_and_goes_on() -> None:
    profile = prepared().profile
    (skip,) = [s for s in profile.skipped if s.route.startswith("models/")]
    assert (skip.method, skip.route) == ("GET", "models/<str:app_label>/<str:model_name>/<int:pk>/")
    assert skip.reason == (
        "its view could not be inspected outside a request (KeyError: 'app_label')"
    )
    assert [t.route for t in profile.tasks] == ["api/whoami/"]


@override_settings(ROOT_URLCONF="tests.scaffoldsite.probed_urls", MIDDLEWARE=SESSIONS)
def test_scaffold_asks_each_path_once_and_leaves_out_the_errors() -> None:
    profile = prepared().profile
    tasks = {t.route: t for t in profile.tasks}
    assert sorted(tasks) == ["api/whoami/", "authors/<int:pk>/page/", "shrugs-off/", "to-page/"]
    pages = {a.pk: a.name for a in Author.objects.all()}
    assert tasks["authors/<int:pk>/page/"].paths  # only the authors that have a page
    for path in tasks["authors/<int:pk>/page/"].paths:
        pk = int(path.split("/")[2])
        assert not pages[pk].endswith(("0", "2", "4"))
    (failing,) = [s for s in profile.skipped if s.route == "failing/"]
    line = line_of("tests/scaffoldsite/views.py", 'raise RuntimeError("this page always fails")')
    assert failing.reason == (
        "answered 500 (RuntimeError: this page always fails at "
        f"tests/scaffoldsite/views.py:{line}) at /failing/ with the values found (asked once when "
        "the profile was written)"
    )
    reasons = {s.route: s.reason.split(" with the values found")[0] for s in profile.skipped}
    assert reasons["loop/a/"] == "ended in a redirect loop at /loop/a/"
    assert reasons["code/"] == "ended in a redirect off the site (to example.org) at /code/"
    assert reasons["to-forbidden/"] == "answered 403 at /to-forbidden/"
    assert reasons["forbidden/"] == "answered 403 at /forbidden/"
    # The probe's requests left no trace: the rows are as they were.
    assert Author.objects.count() == len(pages)


@pytest.mark.postgres
@pytest.mark.mariadb
@override_settings(ROOT_URLCONF="tests.scaffoldsite.probed_urls", MIDDLEWARE=SESSIONS)
def test_a_probed_statement_that_fails_and_is_caught_fails_alone() -> None:
    """The probe's transaction is rolled back, but each statement runs as in autocommit: on
    PostgreSQL, a failed statement would otherwise refuse every later one, and a page that works
    would answer 500 (and be left out of the profile)."""
    tasks = {t.route: t for t in prepared().profile.tasks}
    assert tasks["shrugs-off/"].paths == ("/shrugs-off/",)


@override_settings(ROOT_URLCONF="tests.scaffoldsite.helper_urls", MIDDLEWARE=SESSIONS)
def test_scaffold_follows_helpers_and_fills_nested_lookups_from_one_row() -> None:
    profile = prepared(staff()).profile
    assert [(s.route, s.reason) for s in profile.skipped] == []
    tasks = {t.route: (t.paths, t.comment.split("; ", 1)[1]) for t in profile.tasks}
    books = range(1, 7)
    reviews = range(1, 11)  # two reviews per book: review r is of book (r + 1) // 2
    assert tasks == {
        # get() -> self.load_book() -> self.find_book(self.kwargs["pk"]) -> get_object_or_404
        "shelves/<int:pk>/": (
            tuple(f"/shelves/{n}/" for n in books),
            "pk from corpus.Book rows",
        ),
        # Book._default_manager.select_related("author").get(title=...) in get()
        "titles/<str:title>/": (
            tuple(f"/titles/book%20{n - 1}/" for n in books),
            "title from corpus.Book.title",
        ),
        # A model the view looks up has a field of the parameter's name.
        "writers/<str:name>/": (
            tuple(f"/writers/author%20{n}/" for n in range(5)),
            "name from corpus.Author.name",
        ),
        # Two parameters of Author rows: each path's from one author.
        "writers/<str:author_name>_<int:pk>/": (
            tuple(f"/writers/author%20{n - 1}_{n}/" for n in range(1, 6)),
            "author_name from corpus.Author.name; pk from corpus.Author rows",
        ),
        # The parent's field of each review: every path names a review of that book.
        "titles/<str:title>/reviews/<int:review_id>/": (
            tuple(f"/titles/book%20{(r + 1) // 2 - 1}/reviews/{r}/" for r in reviews),
            "title from corpus.Review.book.title; review_id from corpus.Review.pk",
        ),
        "books/<int:book_pk>/reviews/<int:pk>/": (
            tuple(f"/books/{(r + 1) // 2}/reviews/{r}/" for r in reviews),
            "book_pk from corpus.Review.book; pk from corpus.Review rows",
        ),
        "library/<int:book_pk>/reviews/<int:pk>/": (
            tuple(f"/library/{(r + 1) // 2}/reviews/{r}/" for r in reviews),
            "book_pk from corpus.Review.book.pk; pk from corpus.Review.pk",
        ),
        "authors/<str:name>/reviews/<int:review_pk>/": (
            tuple(f"/authors/author%20{((r + 1) // 2 - 1) % 5}/reviews/{r}/" for r in reviews),
            "name from corpus.Review.book.author.name; review_pk from corpus.Review.pk",
        ),
        # A function view hands `title` to a module helper, whose lookup is on a queryset
        # kept in a variable: get_object_or_404(rows, title=book_title).
        "cards/<str:title>/": (
            tuple(f"/cards/book%20{n - 1}/" for n in books),
            "title from corpus.Book.title",
        ),
    }


@override_settings(ROOT_URLCONF="tests.scaffoldsite.helper_urls", MIDDLEWARE=SESSIONS)
def test_scaffold_takes_two_parameters_of_one_model_from_one_row() -> None:
    Author.objects.filter(name="author 1").update(name="author 0")  # two authors, one name
    profile = prepared(staff(), include=("^writers/<str:author_name>",)).profile
    (task,) = profile.tasks
    assert task.paths == (
        "/writers/author%200_1/",
        "/writers/author%200_2/",
        "/writers/author%202_3/",
        "/writers/author%203_4/",
        "/writers/author%204_5/",
    )


@SITE
def test_the_scaffold_reads_rows_outside_django_scopes_scopes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A project on django-scopes refuses queries of its scoped models outside a scope: the
    scaffold reads rows with its scopes disabled, and only while it builds the profile."""
    import contextlib
    import sys
    import types

    from django.db import connection

    state = {"disabled": False}
    entered: list[str] = []
    outside: list[str] = []

    @contextlib.contextmanager
    def scopes_disabled() -> Any:
        entered.append("enter")
        state["disabled"] = True
        try:
            yield
        finally:
            state["disabled"] = False

    def watch(execute: Any, sql: str, *args: Any) -> Any:
        if not state["disabled"]:
            outside.append(sql)
        return execute(sql, *args)

    fake = types.SimpleNamespace(scopes_disabled=scopes_disabled)
    monkeypatch.setitem(sys.modules, "django_scopes", fake)
    user = staff()
    with connection.execute_wrapper(watch):
        profile = prepared(user).profile
    assert entered == ["enter"]
    assert profile.tasks
    assert outside == []


GUARDED = override_settings(ROOT_URLCONF="tests.scaffoldsite.guarded_urls", MIDDLEWARE=SESSIONS)


@GUARDED
def test_the_probe_leaves_out_pages_that_log_out_or_write_whatever_their_names() -> None:
    built = prepared(staff())
    profile = built.profile
    # The page after the one that ended the session was still asked as the user (a members-only
    # page answers 403 to anyone else); a write every page makes is the site's, and a time
    # noted, a counter counted and a row added are writes a load test may repeat: kept.
    assert sorted(t.route for t in profile.tasks) == [
        "api/whoami/",
        "members/",
        "to-page/",
        "touch/",
    ]
    reasons = {s.route: s.reason for s in profile.skipped}
    assert reasons["forecast/"] == (
        "its answer at /forecast/ reaches api.example.org:80 over the network: a load test "
        "would call it on every request (with the values found (asked once when the profile "
        "was written))"
    )
    assert reasons["sessions/end/"] == (
        "its answer at /sessions/end/ clears the login's sessionid cookie: a load test's users "
        "would be logged out (with the values found (asked once when the profile was written))"
    )
    assert reasons["authors/<int:pk>/name/"].startswith("a GET that writes (UPDATE on ")
    assert "corpus_author" in reasons["authors/<int:pk>/name/"]
    assert reasons["authors/<int:pk>/name/"].endswith(
        "a load test would change your data (--writes keeps it)"
    )
    assert "corpus_publisher" not in reasons["authors/<int:pk>/name/"]
    assert built.left_out == {
        "pages whose name says a GET changes data (delete, copy, toggle, …)": 1
    }
    assert not Author.objects.filter(name="renamed").exists()  # the probes were rolled back


@GUARDED
def test_writes_keeps_the_pages_that_write_and_include_brings_back_what_it_names() -> None:
    routes = {t.route for t in prepared(staff(), writes=True).profile.tasks}
    assert "authors/<int:pk>/name/" in routes
    assert "sessions/end/" not in routes  # logging out is never kept: it ends every user's run
    # A pattern that selects routes keeps out a page whose name says it deletes, unless the
    # pattern says so itself (`--include logout` above).
    for include in ("^", "again"):
        assert prepared(staff(), include=(include,)).left_out == {
            "pages whose name says a GET changes data (delete, copy, toggle, …)": 1
        }


@GUARDED
def test_the_probe_tells_its_progress_after_each_page() -> None:
    told: list[tuple[int, int]] = []
    built = prepare(ScaffoldOptions(), staff(), lambda done, total: told.append((done, total)))

    # Every path of a GET route was asked once: 11 paths of the four routes kept and the three
    # the probe left out.
    assert (len(built.profile.tasks), len(built.profile.skipped)) == (4, 3)
    assert told == [(n, 11) for n in range(1, 12)]


@SITE
def test_many_routes_keep_fewer_rows_each_so_the_scaffold_asks_a_bounded_number_of_pages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from perftoolkit.audit import scaffold as scaffold_module

    whole = prepared(staff()).profile
    gets = [t for t in whole.tasks if t.method == "GET"]
    singles = sum(1 for t in gets if len(t.paths) == 1)
    several = len(gets) - singles
    assert max(len(t.paths) for t in gets) > 3
    # Room for three rows a route with several.
    monkeypatch.setattr(scaffold_module, "PROBE_PAGES", singles + 3 * several)
    told: list[tuple[int, int]] = []
    bounded = prepare(ScaffoldOptions(), staff(), lambda done, total: told.append((done, total)))

    asked = sum(min(len(t.paths), 3) for t in gets)
    assert told[-1] == (asked, asked)
    assert [t.paths for t in bounded.profile.tasks] == [
        t.paths[:3] if t.method == "GET" else t.paths for t in whole.tasks
    ]
    assert bounded.rows == 3
    assert (
        bounded.write(tmp_path / "p.py")
        .summary("p.py")
        .endswith(
            "; 3 rows a route, not 10: so many routes would have made the scaffold ask more than "
            f"{singles + 3 * several} pages."
        )
    )
