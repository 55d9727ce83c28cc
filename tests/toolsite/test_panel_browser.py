"""The panel in a real headless Chromium: the toolbar's own JavaScript fetches and shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.data import seed
from tests.support import browser as support

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if (reason := support.unavailable_reason()) is not None:
        support.skip_or_fail(reason)
    # Playwright's sync API keeps an event loop in this thread; the test's own database calls
    # (seeding, flushing) are plain sync code all the same.
    with pytest.MonkeyPatch.context() as patch, support.chromium() as browser:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield browser


def test_panel_renders_in_the_browser(chromium: Any, live_server: Any, tmp_path: Path) -> None:
    seed()
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{live_server.url}/interop/books/")
        link = page.locator("#djdt-PerfPanel a, a.PerfPanel").first
        link.wait_for(state="visible", timeout=15_000)
        assert "7 queries · 1 finding" in link.inner_text()
        link.click()
        panel = page.locator(".perftoolkit-panel")
        panel.wait_for(state="visible", timeout=15_000)
        text = " ".join(panel.inner_text().split())
        page.screenshot(path=str(tmp_path / "panel.png"))
    finally:
        context.close()
    assert "GET interop/books/" in text
    assert 'Fix: .select_related("author")' in text
    assert "Callsite: tests/templates/interop/books.html:4 (book.author.name)" in text
    assert "rows loaded at tests/interop/views.py:" in text
    assert "Not counted: 7 EXPLAIN statements django-silk ran" in text
    assert "No budget for this endpoint" in text
    assert errors == []
