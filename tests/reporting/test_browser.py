"""The HTML reports in a real headless Chromium, opened from disk like a user would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from perftoolkit.reporting.comparing import write_comparison
from perftoolkit.reporting.html import write_run_html
from tests.support import browser as support
from tests.support.runs import SCRIPT, after_run, before_run, hostile_run, judged_before_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if (reason := support.unavailable_reason()) is not None:
        support.skip_or_fail(reason)
    with support.chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("reports")
    write_run_html(before_run(), out / "before" / "index.html")
    write_run_html(judged_before_run(), out / "sample" / "index.html")
    write_run_html(hostile_run(), out / "hostile" / "index.html")
    write_comparison(before_run(), after_run(), out / "compare")
    return {
        "before": (out / "before" / "index.html").as_uri(),
        "sample": (out / "sample" / "index.html").as_uri(),
        "hostile": (out / "hostile" / "index.html").as_uri(),
        "compare": (out / "compare" / "index.html").as_uri(),
    }


class Visit:
    """A page opened from file://, recording console errors, script errors, dialogs and every
    request that is not the file itself."""

    def __init__(self, browser: Any, url: str, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss())
        )
        self.page.on("request", lambda r: self.requests.append(r.url) if r.url != url else None)
        self.page.goto(url, timeout=15_000)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(chromium: Any) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_page(url: str, **context: Any) -> Visit:
        opened.append(Visit(chromium, url, **context))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


def column(page: Any, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())"
    )


def test_run_report_renders_with_no_errors_and_the_key_numbers(
    visit: Any, pages: dict[str, str]
) -> None:
    v = visit(pages["before"])
    page = v.page

    assert page.title() == "before · perftoolkit report"
    assert page.locator("h1").inner_text() == "before"
    assert page.locator(".verdict").inner_text() == (
        "4 of 5 targets missed. 5 findings (3 N+1) on 5 of 8 endpoints. 3 endpoints over budget."
    )
    assert page.locator(".card-v").all_inner_texts() == ["140 ms", "1.3 s", "2.1 s", "46", "48.6%"]
    assert page.locator("#endpoints-table tbody tr").count() == 8
    assert page.get_by_text("api/instructor/courses/").first.is_visible()
    assert page.locator("svg#latency-chart").is_visible()
    assert page.locator("svg#queries-chart").is_visible()
    # The stylesheet applied (its CSP hash matched): the masthead has its panel colour.
    assert (
        page.eval_on_selector(".masthead", "e => getComputedStyle(e).backgroundColor")
        == "rgb(245, 247, 250)"
    )
    assert v.problems == []
    assert v.requests == []


def test_endpoints_table_sorts_by_clicking_a_header(visit: Any, pages: dict[str, str]) -> None:
    page = visit(pages["before"]).page
    header = page.locator("#endpoints-table thead th", has_text="Queries, median")

    header.locator("button").click()

    assert header.get_attribute("aria-sort") == "descending"
    assert column(page, "endpoints-table", 2) == ["46", "26", "16", "12", "8", "6", "4", "3"]
    assert (
        column(page, "endpoints-table", 0)[0]
        == "GET api/instructor/courses/lms.views.InstructorCourses"
    )

    header.locator("button").click()

    assert header.get_attribute("aria-sort") == "ascending"
    assert column(page, "endpoints-table", 2) == ["3", "4", "6", "8", "12", "16", "26", "46"]


def test_endpoints_table_sorts_from_the_keyboard(visit: Any, pages: dict[str, str]) -> None:
    page = visit(pages["before"]).page

    page.locator("#endpoints-table thead th", has_text="p95").locator("button").focus()
    page.keyboard.press("Enter")

    assert column(page, "endpoints-table", 6) == [
        "1,300",
        "640",
        "420",
        "380",
        "300",
        "260",
        "200",
        "150",
    ]
    page.keyboard.press("Space")
    assert column(page, "endpoints-table", 6)[0] == "150"


def test_compare_report_renders_regressions_first(visit: Any, pages: dict[str, str]) -> None:
    v = visit(pages["compare"])
    page = v.page

    assert page.locator("#verdict").inner_text() == (
        "✗ 1 regression. Queries per request 16.2 → 4.74. Findings: 4 fixed, 1 new, 1 remaining."
    )
    assert (
        page.locator(".regressions li")
        .inner_text()
        .startswith(
            "GET api/projects/<int:pk>/tasks/: queries.max rose from 4 to 5 on requests that ran the same statements"
        )
    )
    first = page.locator("#compare-table tbody tr").first
    assert first.get_attribute("class") == "regressed"
    assert "▲ regression" in first.inner_text()
    assert page.locator("#findings-fixed li").count() == 4
    assert page.locator("#findings-new li").count() == 1
    assert page.locator("svg#queries-pairs").is_visible()
    assert v.problems == []
    assert v.requests == []

    page.locator("#compare-table thead th", has_text="Queries median").locator("button").click()

    # Ascending by the change: the biggest drop first.
    assert column(page, "compare-table", 1)[0] == "46→6▼ −40"


def test_escaping_holds_in_the_browser(visit: Any, pages: dict[str, str]) -> None:
    v = visit(pages["hostile"])
    page = v.page

    page.locator("details.sql summary").first.click()

    assert (
        page.locator("details.sql pre").first.inner_text()
        == f'SELECT \'{SCRIPT}\' FROM "t" WHERE "a" = %s'
    )
    assert page.locator("h1").inner_text() == f"label {SCRIPT}"
    assert page.eval_on_selector_all("script", "s => s.length") == 1
    assert page.eval_on_selector_all("img, b, i", "e => e.length") == 0
    assert v.problems == []  # no alert() dialog, no script error
    assert v.requests == []  # <img src=x> never became a request


def test_copy_button_copies_or_selects_the_fix(visit: Any, pages: dict[str, str]) -> None:
    page = visit(pages["before"]).page
    button = page.locator(".fix button.copy").first
    code = page.locator(".fix code").first.inner_text()

    button.click()

    page.wait_for_function(
        "code => document.querySelector('.fix button.copy').textContent === 'Copied'"
        " || window.getSelection().toString() === code",
        arg=code,
        timeout=5_000,
    )


def test_print_stylesheet_hides_the_controls(visit: Any, pages: dict[str, str]) -> None:
    page = visit(pages["before"]).page

    page.emulate_media(media="print")

    assert not page.locator("nav.toc").is_visible()
    assert not page.locator("button.copy").first.is_visible()
    assert page.locator("#findings").is_visible()
    assert len(page.pdf()) > 10_000


def test_report_fits_a_phone(visit: Any, pages: dict[str, str]) -> None:
    page = visit(pages["before"], viewport={"width": 390, "height": 844}).page

    width = page.evaluate("document.documentElement.scrollWidth")

    assert width <= 390  # wide tables scroll inside their own box, not the page


def test_first_screen_of_the_sample_report_shows_the_top_fixes(
    visit: Any, pages: dict[str, str], tmp_path: Any
) -> None:
    """1280×800, as a laptop opens it: the three fixes that save the most are on the first screen,
    each with its fix, its lines and its endpoint; the budget cards are folded further down."""
    v = visit(pages["sample"], viewport={"width": 1280, "height": 800})
    page = v.page
    shot = tmp_path / "first-screen.png"
    page.screenshot(path=str(shot))

    items = page.locator("#fix-first li.fixitem")
    assert items.count() == 5
    for n in range(3):
        box = items.nth(n).bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= 800, f"fix {n + 1} ends at {box['y'] + box['height']}"
    assert [items.nth(n).locator(".fixline code").inner_text() for n in range(3)] == [
        '.select_related("instructor__user")',
        '.annotate("enrollments")',
        '.select_related("enrollment__user")',
    ]
    first = items.first.inner_text()
    assert "lms/serializers.py:48" in first  # where the per-row queries run
    assert "lms/views.py:28" in first  # where the rows are loaded
    assert "GET api/courses/" in first
    assert "Also explains\nover budget: queries 26 > 6 (+20)." in first
    assert not page.locator("#budget-findings").evaluate("e => e.open")
    assert not page.locator("#budget-findings article").first.is_visible()
    assert shot.stat().st_size > 20_000
    assert v.problems == []


def test_a_link_to_a_folded_budget_card_unfolds_it(visit: Any, pages: dict[str, str]) -> None:
    page = visit(pages["sample"]).page

    page.locator("#fix-1 a.also").first.click()

    assert page.locator("#budget-findings").evaluate("e => e.open")
    assert page.locator("#budget-findings article").first.is_visible()


def test_ids_are_unique_and_each_nav_link_lands_on_its_section(
    visit: Any, pages: dict[str, str]
) -> None:
    for name in ("sample", "compare"):
        page = visit(pages[name]).page
        ids = page.eval_on_selector_all("[id]", "e => e.map(x => x.id)")
        assert len(ids) == len(set(ids)), name
        for href in page.eval_on_selector_all("nav.toc a", "e => e.map(a => a.hash)"):
            tag = page.eval_on_selector(href, "e => e.tagName")
            assert tag == "SECTION", f"{name}: {href} is a {tag}"


def test_compare_findings_lists_use_the_whole_width_and_colours_say_why(
    visit: Any, pages: dict[str, str]
) -> None:
    page = visit(pages["compare"], viewport={"width": 1280, "height": 800}).page
    main = page.locator("main").bounding_box()
    fixed = page.locator("#findings-fixed").bounding_box()

    assert main is not None
    assert fixed is not None
    assert fixed["width"] >= main["width"] - 60  # one list per row, not a column of three
    assert page.locator("#colour-rules li").count() == 5
    cell = page.locator("#compare-table tbody tr").first.locator("td .chg").nth(1)
    assert cell.get_attribute("title") == (
        "up 1 · query counts: red or green when the endpoint runs more or fewer queries on the "
        "same statements; grey when a request met a path the other run never took"
    )
