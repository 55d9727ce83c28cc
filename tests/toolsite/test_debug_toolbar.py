"""PerfPanel through django-debug-toolbar's own machinery: the toolbar middleware records the
request, its render_panel view renders our panel from the toolbar's store."""

from __future__ import annotations

import re
from pathlib import Path

import debug_toolbar
import pytest
from debug_toolbar.store import get_store
from django.test import Client, override_settings

from perftoolkit.budgets import BUDGET_FILE
from tests.corpus.data import seed
from tests.support.corpus import line_of

pytestmark = pytest.mark.django_db
PANEL = "PerfPanel"
TEMPLATE = "tests/templates/interop/books.html"


@pytest.fixture(autouse=True)
def _data(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    monkeypatch.chdir(tmp_path)  # no budget file unless a test writes one


def _request_id(html: str) -> str:
    found = re.search(r'data-request-id="([0-9a-f]+)"', html)
    assert found is not None, "the toolbar was not inserted"
    return found.group(1)


def _panel(client: Client, request_id: str) -> str:
    response = client.get("/__debug__/render_panel/", {"request_id": request_id, "panel_id": PANEL})
    assert response.status_code == 200
    content: str = response.json()["content"]
    return content


def test_toolbar_version_under_test() -> None:
    assert debug_toolbar.VERSION == "8.0.0"


def test_panel_in_the_toolbar_with_its_subtitle() -> None:
    html = Client().get("/interop/books/").content.decode()
    assert 'id="djdt-PerfPanel"' in html or 'class="PerfPanel"' in html
    assert "7 queries · 1 finding" in html  # silk's 7 EXPLAINs are counted apart


def test_render_panel_shows_the_finding_fix_and_callsite() -> None:
    client = Client()
    content = _panel(client, _request_id(client.get("/interop/books/").content.decode()))
    assert "<h4>GET interop/books/</h4>" in content
    assert "Not counted: 7 EXPLAIN statements django-silk ran to profile this request." in content
    assert '<code class="perftoolkit-fix">.select_related(&quot;author&quot;)</code>' in content
    line = next(
        n
        for n, text in enumerate(
            Path(__file__)
            .parents[1]
            .joinpath(TEMPLATE.removeprefix("tests/"))
            .read_text()
            .splitlines(),
            1,
        )
        if "book.author.name" in text
    )
    assert f"Callsite: <code>{TEMPLATE}:{line}</code>" in content
    assert "rows loaded at <code>tests/interop/views.py:" in content


def test_render_panel_groups_queries_by_shape() -> None:
    client = Client()
    content = _panel(client, _request_id(client.get("/interop/books/").content.decode()))
    rows = re.findall(r"<tr><td>(\d+)</td><td>[\d.]+</td><td><code>(.*?)</code>", content)
    assert [(int(n), sql.split(" FROM ")[1].split()[0]) for n, sql in rows] == [
        (6, "&quot;corpus_author&quot;"),
        (1, "&quot;corpus_book&quot;"),
    ]


def test_render_panel_without_budget_file() -> None:
    client = Client()
    content = _panel(client, _request_id(client.get("/interop/books/").content.decode()))
    assert "No budget for this endpoint: no perf-budgets.toml" in content


def test_render_panel_judges_the_request_against_its_budget(tmp_path: Path) -> None:
    (tmp_path / BUDGET_FILE).write_text('[endpoints."GET interop/books/"]\nqueries = 3\n')
    client = Client()
    content = _panel(client, _request_id(client.get("/interop/books/").content.decode()))
    assert (
        "<tr><td>queries</td><td>3</td><td>7</td><td><strong>exceeded</strong></td></tr>" in content
    )
    assert (
        '<strong class="perftoolkit-budget-status">exceeded</strong> (perf-budgets.toml)' in content
    )


def test_render_panel_counts_ignored_findings() -> None:
    client = Client()
    client.get("/interop/inline/")  # JSON: the toolbar is not inserted, but the request is stored
    request_id = list(get_store().request_ids())[-1]
    content = _panel(client, request_id)
    assert "No findings." in content
    assert "1 finding ignored (inline comment)" in content
    assert (
        f"n_plus_one at <code>tests/interop/views.py:{line_of('tests/interop/views.py', '# perftoolkit: ignore[n_plus_one]')}</code>: inline comment"
        in content
    )


@override_settings(PERFTOOLKIT={"MODE": "off", "IGNORE": [{"route": "interop/books/"}]})
def test_render_panel_with_a_settings_rule() -> None:
    client = Client()
    content = _panel(client, _request_id(client.get("/interop/books/").content.decode()))
    assert "1 finding ignored (PERFTOOLKIT[&#x27;IGNORE&#x27;][0])" in content
