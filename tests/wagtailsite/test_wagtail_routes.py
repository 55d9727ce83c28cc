"""Wagtail pages keyed by page class (`GET wagtail:blog.BlogIndexPage`) through the route keyer:
in recordings, reports, findings and budget files, against a real Wagtail site."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import wagtail
from django.core.management import call_command
from django.test import Client, override_settings
from wagtail.models import Page, Site

from perftoolkit.budgets import load_budgets, parse_budgets
from perftoolkit.conf import reset_settings
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import write_run
from perftoolkit.urlconf import configured_routes, wagtail_page_route
from tests.wagtailsite.blog.models import Author, BlogIndexPage, BlogPage

pytestmark = pytest.mark.django_db
INDEX, POST = "wagtail:blog.BlogIndexPage", "wagtail:blog.BlogPage"


@pytest.fixture(autouse=True)
def site(db: None) -> BlogIndexPage:
    root = Page.get_first_root_node()
    index = root.add_child(instance=BlogIndexPage(title="Blog", slug="blog"))
    for n in range(4):
        author = Author.objects.create(name=f"author {n}")
        index.add_child(instance=BlogPage(title=f"Post {n}", slug=f"post-{n}", author=author))
    Site.objects.update(root_page=index)
    return index


@pytest.fixture
def record_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    return directory


def _record(
    record_dir: Path, *paths: str, headers: dict[str, str] | None = None
) -> dict[str, object]:
    client = Client(headers=headers)
    for path in paths:
        assert client.get(path).status_code in (200, 404)
    run = build_report(record_dir)
    return {e.key: e for e in run.endpoints} | {"findings": run.findings}


def test_wagtail_version_under_test() -> None:
    assert wagtail.__version__ == "8.0.1"


def test_pages_are_keyed_by_their_page_class(record_dir: Path) -> None:
    found = _record(record_dir, "/", "/post-1/", "/post-2/", "/mw/three/")
    assert sorted(k for k in found if k != "findings") == [
        "GET mw/three/",
        f"GET {INDEX}",
        f"GET {POST}",
    ]
    assert found[f"GET {POST}"].requests == 2  # type: ignore[attr-defined]
    assert found[f"GET {INDEX}"].view == "wagtail.views.serve"  # type: ignore[attr-defined]


def test_findings_carry_the_page_key(record_dir: Path) -> None:
    found = _record(record_dir, "/")
    (finding,) = found["findings"]  # type: ignore[misc]
    assert (finding.kind, finding.route, finding.model, finding.field, finding.repeats) == (
        "n_plus_one",
        INDEX,
        "blog.BlogPage",
        "author",
        4,
    )
    assert finding.fix.code == '.select_related("author")'


def test_unknown_page_falls_back_to_the_pattern(record_dir: Path) -> None:
    found = _record(record_dir, "/no-such-page/")
    assert [k for k in found if k != "findings"] == ["GET <arg>"]


@override_settings(PERFTOOLKIT={"ROUTE_KEYERS": []})
def test_without_keyers_the_whole_site_is_one_endpoint(record_dir: Path) -> None:
    found = _record(record_dir, "/", "/post-1/")
    assert [k for k in found if k != "findings"] == ["GET <arg>"]


@override_settings(
    PERFTOOLKIT={
        "ROUTE_KEYERS": [
            "tests.wagtailsite.keyers.failing",
            "tests.wagtailsite.keyers.by_header",
            "perftoolkit.urlconf.wagtail_page_route",
        ]
    }
)
def test_project_keyers_run_in_order_and_a_failing_one_is_skipped(
    record_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    found = _record(record_dir, "/post-1/", "/mw/three/", headers={"X-Section": "news"})
    assert sorted(k for k in found if k != "findings") == ["GET section:news"]
    found = _record(record_dir, "/post-2/")  # the same directory: the earlier two, and this one
    assert sorted(k for k in found if k != "findings") == ["GET section:news", f"GET {POST}"]
    assert caplog.records[0].getMessage().startswith("perftoolkit: route keyer <function failing")
    assert caplog.records[0].levelno == logging.WARNING


def test_budget_keys_name_page_classes() -> None:
    routes = configured_routes()
    assert routes is not None
    assert {INDEX, POST, "wagtail:wagtailcore.Page"} <= routes
    assert wagtail_page_route.routes() == {INDEX, POST, "wagtail:wagtailcore.Page"}
    budgets = parse_budgets(f'[endpoints."GET {INDEX}"]\nqueries = 3\n', routes=routes)
    assert budgets.get("GET", INDEX) is not None
    with pytest.raises(ConfigurationError) as error:
        parse_budgets('[endpoints."GET wagtail:blog.BlogIndex"]\nqueries = 3\n', routes=routes)
    assert str(error.value) == (
        "perf-budgets.toml:1: 'GET wagtail:blog.BlogIndex' names a route the URLconf does not "
        "have (any more). Rename the table to the route it became (closest: "
        "'GET wagtail:blog.BlogIndexPage'), or remove it."
    )


def test_budget_record_and_check_on_page_keys(
    record_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Client().get("/")
    Client().get("/post-1/")
    write_run(build_report(record_dir), tmp_path / "report.json")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    call_command("perf_budget", "record", "--report", "report.json", stdout=io.StringIO())
    budgets = load_budgets(tmp_path / "perf-budgets.toml", routes=configured_routes())
    index = budgets.get("GET", INDEX)
    post = budgets.get("GET", POST)
    assert index is not None
    assert post is not None
    assert index.limits.queries is not None
    assert post.limits.queries is not None
    assert index.limits.queries > post.limits.queries  # the index's N+1 is its own budget
    out = io.StringIO()
    call_command("perf_budget", "check", "--report", "report.json", stdout=out)
    assert out.getvalue() == "All 2 budgeted endpoints within budget (perf-budgets.toml)\n"


def test_scaffold_has_a_task_per_page_class_named_by_its_key() -> None:
    from perftoolkit.audit.options import ScaffoldOptions
    from perftoolkit.audit.scaffold import prepare

    profile = prepare(ScaffoldOptions(), None).profile
    keyed = {t.route: t for t in profile.tasks if t.route.startswith("wagtail:")}
    assert sorted(keyed) == [INDEX, POST]
    assert keyed[INDEX].paths == ("/",)
    assert keyed[POST].paths == ("/post-0/", "/post-1/", "/post-2/")
    assert keyed[POST].name == POST  # Locust groups by the key, and the audit reads it back
    assert keyed[POST].comment == (
        "3 live pages served by wagtail.views.serve, keyed by page class"
    )
    # The catch-all pattern itself is no task: its pages are.
    assert all(t.route != "<arg>" for t in profile.tasks)


def test_scaffolded_paths_are_keyed_as_their_task_says(record_dir: Path) -> None:
    from perftoolkit.audit.options import ScaffoldOptions
    from perftoolkit.audit.scaffold import prepare

    profile = prepare(ScaffoldOptions(), None).profile
    for task in profile.tasks:
        if task.route.startswith("wagtail:"):
            found = _record(record_dir, *task.paths)
            assert f"GET {task.route}" in found


def test_a_request_named_by_its_key_is_that_endpoint() -> None:
    from perftoolkit.audit.target import resolve_route
    from perftoolkit.core.routes import request_route

    # The catch-all pattern would take any path: the key is not resolved as one.
    assert request_route(POST, resolve_route) == POST
    assert request_route("/post-1/", resolve_route) == "<arg>"
