from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import override_settings

from perftoolkit.core.runs.compare import compare
from perftoolkit.core.runs.loadstats import LoadEntry
from perftoolkit.core.runs.run import EndpointStats
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.reporting.html import render_compare_html, render_run_html, write_run_html
from perftoolkit.reporting.schema import read_run, write_run
from tests.support.runs import (
    SCRIPT,
    Endpoint,
    after_run,
    before_run,
    hostile_run,
    make_run,
)

ROOT = Path(__file__).resolve().parents[2]


class Tags(HTMLParser):
    """Every element a browser would build from the page, and the text of <style>/<script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str | None]] = []
        self.raw: dict[str, list[str]] = {"style": [], "script": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes += attrs
        self._in = tag if tag in self.raw else None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in].append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def test_run_html_escapes_every_attacker_controlled_string() -> None:
    page = render_run_html(hostile_run())
    tags = parse(page)

    assert tags.tags["script"] == 1  # ours, at the end of the body
    assert not {"img", "b", "i", "iframe"} & set(tags.tags)
    assert not [name for name, _ in tags.attributes if name.startswith("on")]
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    assert f"label {escaped}" in page  # the label
    assert f"api/{escaped}/" in page  # the route, in the table, the finding and the charts
    assert f"Message with {escaped} &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert f"SELECT &#x27;{escaped}&#x27; FROM &quot;t&quot;" in page  # the SQL shape
    assert f".select_related(&quot;{escaped}&quot;)" in page  # the fix
    assert "app/&lt;img src=x onerror=alert(1)&gt;.py:3" in page  # the origin
    assert f"migrations.AddIndex({escaped})" in page
    assert f"note {escaped}" in page
    assert f"db {escaped}" in page


def test_compare_html_escapes_labels_routes_and_messages() -> None:
    before, after = hostile_run(), before_run()
    page = render_compare_html(compare(before, after), before, after)
    tags = parse(page)

    assert tags.tags["script"] == 1
    assert not {"img", "b", "i"} & set(tags.tags)
    assert SCRIPT not in page


@pytest.mark.parametrize("which", ["run", "compare"])
def test_html_loads_nothing_from_outside(which: str) -> None:
    before, after = before_run(), after_run()
    page = (
        render_run_html(before)
        if which == "run"
        else render_compare_html(compare(before, after), before, after)
    )

    for needle in ("http://", "https://", "//cdn", "<script src", "<link", "@import", "url("):
        assert needle not in page
    assert not [
        value
        for name, value in parse(page).attributes
        if name in ("src", "href") and value and not value.startswith("#")
    ]


def test_html_content_security_policy_allows_only_its_own_inline_code() -> None:
    page = render_run_html(before_run())
    tags = parse(page)
    (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)

    def digest(text: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert policy.startswith("default-src &#x27;none&#x27;; ")
    assert digest("".join(tags.raw["style"])) in policy
    assert digest("".join(tags.raw["script"])) in policy


def test_html_is_deterministic_and_rebuilt_from_report_json(tmp_path: Path) -> None:
    run = before_run()
    again = read_run(write_run(run, tmp_path / "report.json"))

    assert render_run_html(run) == render_run_html(before_run()) == render_run_html(again)
    comparison = compare(run, after_run())
    assert render_compare_html(comparison, run, after_run()) == render_compare_html(
        compare(again, after_run()), again, after_run()
    )


def test_run_html_shows_the_key_numbers() -> None:
    page = render_run_html(before_run())

    assert "<h1>before</h1>" in page
    assert "2026-11-18 11:06:40 UTC" in page
    assert "1 min 5 s" in page
    assert (
        "4 of 5 targets missed. 5 findings (3 N+1) on 5 of 8 endpoints. 3 endpoints over budget."
        in page
    )
    assert '<p class="card-v">1.3 s</p>' in page  # P95 of all requests, against 500 ms
    assert '<p class="card-v">46</p>' in page  # the worst endpoint's median queries
    assert '<p class="card-v">48.6%</p>' in page
    assert page.count('<tr>\n          <th scope="row"') == 8
    assert '<span class="route">api/instructor/courses/</span>' in page
    assert "lms/serializers.py:48</code> in <code>to_representation" in page
    assert ".select_related(&quot;instructor__user&quot;)" in page
    assert "lms_enrollment (user_id, course_id, status)" in page
    assert "Estimated cost 1,840 → 12.5 (-99%)" in page
    assert "users</span> 20" in page
    assert "workers</span> 2" in page
    assert "profiles smoke, mixed against SAMPLE_VARIANT=before" in page
    assert "Complete run." in page


def test_run_html_incomplete_banner() -> None:
    page = render_run_html(before_run().with_changes(complete=False))

    assert "Incomplete run." in page
    assert "Complete run." not in page


def test_run_html_targets_argument() -> None:
    page = render_run_html(before_run(), targets={"p95_ms": 2000, "QUERIES": 50})

    assert "P95 &lt; 2 s" in page
    assert "&lt; 50 queries per request" in page
    assert "2 of 5 targets missed." in page


def test_run_html_bad_targets_argument() -> None:
    with pytest.raises(ConfigurationError, match="the \"targets\" argument: unknown target 'p95'"):
        render_run_html(before_run(), targets={"p95": 1})


@override_settings(PERFTOOLKIT={"TARGETS": {"p99_ms": 5000, "cache_hit_ratio": 0.4}})
def test_run_html_targets_from_settings() -> None:
    page = render_run_html(before_run())

    assert "P99 &lt; 5 s" in page
    assert "cache hits &gt; 40%" in page
    assert "2 of 5 targets missed." in page


def test_write_run_html(tmp_path: Path) -> None:
    path = write_run_html(before_run(), tmp_path / "before" / "index.html")

    assert path == tmp_path / "before" / "index.html"
    assert path.read_text() == render_run_html(before_run())
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]


def test_html_renders_without_django_settings(tmp_path: Path) -> None:
    """The CLI renders reports with no settings configured: templates must never ask for them."""
    script = (
        "from tests.support.runs import before_run, after_run, hostile_run\n"
        "from perftoolkit.reporting.comparing import write_comparison\n"
        "from perftoolkit.reporting.html import render_run_html\n"
        "from pathlib import Path\n"
        "import sys\n"
        "for run in (before_run(), after_run(), hostile_run()):\n"
        "    render_run_html(run)\n"
        "write_comparison(before_run(), after_run(), Path(sys.argv[1]))\n"
        "from django.conf import settings\n"
        "assert not settings.configured\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "compare.json",
        "compare.md",
        "index.html",
    ]


def test_templates_ship_inside_the_package() -> None:
    from importlib.resources import files

    folder = files("perftoolkit.reporting") / "templates" / "perftoolkit"
    names = {
        "base.html",
        "run.html",
        "compare.html",
        "finding_item.html",
        "report.css",
        "report.js",
    }

    assert names <= {entry.name for entry in folder.iterdir()}


def test_compare_html_lists_regressions_first() -> None:
    before, after = before_run(), after_run()
    page = render_compare_html(compare(before, after), before, after)

    assert (
        "1 regression. Queries per request 16.2 → 4.74. Findings: 4 fixed, 1 new, 1 remaining."
        in page
    )
    regression = page.index('id="regressions"')
    assert regression < page.index('id="summary"')
    rows = re.findall(r'<th scope="row" data-sort="([^"]+)"', page.split('id="compare-table"')[1])
    assert rows[0] == "api/projects/&lt;int:pk&gt;/tasks/ GET"
    assert rows[1:] == sorted(rows[1:])
    assert "▲ regression" in page
    assert "▼ −22" in page  # api/courses/ median queries 26 → 4
    assert "✗ exceeded → ✓ ok" in page
    assert "Only in before" in page
    assert "GET api/reports/legacy/" in page
    assert "Only in after" in page
    assert "GET api/search/" in page


def test_run_html_without_load_endpoints_or_findings() -> None:
    empty = render_run_html(make_run("empty", [], load=False))
    no_load = render_run_html(make_run("dev", [Endpoint("GET", "api/a/", [2], 3)], load=False))

    assert "No latency was measured." in empty
    assert "No findings: no N+1 queries, duplicates or writes during reads were seen." in empty
    assert '<p class="card-v">n/a</p>' in empty
    assert "no load test" in no_load
    assert (
        "No load test: latency percentiles are the middleware&#x27;s in-process timings." in no_load
    )
    assert "slowest endpoint · 1 of 1 endpoints meet it" in no_load


def test_run_html_endpoint_seen_only_by_the_load_tool() -> None:
    run = before_run()
    entry = LoadEntry("GET", "api/static-ish/", 9, 0, 5.0, 8.0, 9.0)
    only_load = EndpointStats.from_dict({**entry.to_dict(), "latency_source": "locust"})

    page = render_run_html(run.with_changes(endpoints=(*run.endpoints, only_load)))
    row = page.split('<span class="route">api/static-ish/</span>')[1].split("</tr>")[0]

    assert '<td class="num" data-sort="">–</td>' in row  # no queries were recorded for it
    assert '<td class="num" data-sort="8">8.0</td>' in row  # its p95 from Locust


def test_compare_html_incomplete_and_identical_runs() -> None:
    run = after_run().with_changes(complete=False)
    page = render_compare_html(compare(run, run), run, run)

    assert "The run “after” is incomplete: its figures may not show what was asked of it." in page
    assert (
        "No regressions. Latency not judged on 1 of 8 endpoints (too few requests). Queries per "
        "request 4.74 → 4.74. Findings: 0 fixed, 0 new, 2 remaining." in page
    )


def test_run_html_leads_with_fix_first_and_folds_the_budget_cards() -> None:
    from perftoolkit.reporting.html import resolve_targets
    from perftoolkit.reporting.run_view import run_context
    from tests.support.runs import judged_before_run

    run = judged_before_run()
    page = render_run_html(run)
    context = run_context(run, resolve_targets({}))

    main = page.split('<main id="main" class="wrap">', 1)[1]
    assert main.lstrip().startswith('<section id="fix-first"')
    assert [(f.rank, f.title, f.subject) for f in context["fixes"]] == [
        ("1", "N+1 queries", "lms.Course → instructor__user"),
        ("2", "N+1 queries", "lms.Course → enrollments"),
        ("3", "N+1 queries", "lms.CourseReview → enrollment__user"),
        ("4", "Duplicate query", "campaigns.Advertiser"),
        ("5", "Write during a read", "accounts.Subscription"),
    ]
    first = context["fixes"][0]
    assert first.saves == "≈ 1,000 fewer queries and 265 ms less database time over the run"
    assert [(e.endpoint, e.text) for e in first.endpoints] == [
        ("GET api/courses/", "40 requests · −25 queries, −6.6 ms per request")
    ]
    assert [text for _, text in first.also] == ["over budget: queries 26 > 6 (+20)."]
    # Budget cards are folded below the others; the other cards follow Fix first's order.
    assert [f.kind for f in context["budget_findings"]] == ["budget_exceeded"] * 3
    assert [f.endpoint for f in context["findings"]] == [
        "GET api/courses/",
        "GET api/instructor/courses/",
        "GET api/courses/<int:pk>/",
        "GET api/campaigns/",
        "GET api/auth/profile/",
    ]
    assert '<details class="folded" id="budget-findings">' in page
    assert '<a href="#fix-first">Fix first <span class="count">5</span></a>' in page
