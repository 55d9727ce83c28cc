from __future__ import annotations

import re

from perftoolkit.core.runs.compare import compare
from perftoolkit.reporting.markdown import comparison_to_markdown, md_code, md_text
from tests.support.runs import SCRIPT, Endpoint, after_run, hostile_run, make_run, nplusone

FINDING = nplusone("GET", "api/a/", model="app.A", path="b", repeats=4, file="app/views.py", line=9)


def test_comparison_to_markdown_exact() -> None:
    before = make_run(
        "main", [Endpoint("GET", "api/a/", [5], 2, (100.0, 200.0, 300.0), findings=[FINDING])]
    )
    after = make_run("pr-12", [Endpoint("GET", "api/a/", [6], 2, (100.0, 200.0, 300.0))])

    assert comparison_to_markdown(compare(before, after)) == (
        "## perftoolkit: main → pr-12\n"
        "\n"
        "**🔴 1 regression** (an endpoint's worst request ran more queries, or a rank test found its "
        "requests slower by more than 10% at 99% confidence).\n"
        "\n"
        "Latency **not judged** on 1 of 1 endpoints: fewer than 10 timed requests in a run, or no "
        "durations recorded.\n"
        "\n"
        "| | main → pr-12 |\n"
        "|---|---|\n"
        "| queries per request | 5 → 6 🔴 ▲ +1 |\n"
        "| findings | 1 → 0 🟢 ▼ −1 |\n"
        "| p95 latency (ms, all requests) | 200 → 200 = |\n"
        "| p99 latency (ms, all requests) | 300 → 300 = |\n"
        "| requests | 2 → 2 = |\n"
        "\n"
        "### Regressions\n"
        "\n"
        "- `GET api/a/`: queries.max rose from 5 to 6 on requests that ran the same statements\n"
        "\n"
        "### Endpoints\n"
        "\n"
        "| endpoint | queries median | queries max | p95 ms | latency | findings | budget |\n"
        "|---|---|---|---|---|---|---|\n"
        "| `GET api/a/` 🔴 | 5 → 6 🔴 ▲ +1 | 5 → 6 🔴 ▲ +1 | 200 → 200 = (not judged) "
        "| not judged (2 / 2 requests) | 1 → 0 🟢 ▼ −1 | none |\n"
        "\n"
        "### Findings: 1 fixed, 0 new, 0 remaining\n"
        "\n"
        "**✅ Fixed**\n"
        "\n"
        "- `n_plus_one` `GET api/a/` at `app/views.py:9`: app.A.b is loaded once per row: 4 queries of "
        "the same shape per request. Load it with the rows.\n"
    )


def test_comparison_to_markdown_no_regressions() -> None:
    text = comparison_to_markdown(compare(after_run(), after_run()))

    assert text.startswith("## perftoolkit: after → after\n\n**✅ No regressions** (an endpoint")


def test_comparison_to_markdown_keeps_project_text_inert() -> None:
    text = comparison_to_markdown(compare(hostile_run(), after_run()))

    outside_code = re.sub(r"(`+).+?\1", "", text)  # code spans show their text literally

    assert re.findall(r"(?<!\\)[<\[!]", outside_code) == []  # no unescaped tag, link or image
    assert f"`GET api/{SCRIPT}/`" in text
    assert "Message with \\<script\\>alert('x')\\</script\\> \\& \\<b\\>bold\\</b\\>" in text
    assert "perftoolkit: label \\<script\\>alert('x')\\</script\\> → after" in text


def test_md_text_and_code() -> None:
    assert md_text("![x](http://e/x.png) *a* @team\nnext") == (
        "\\!\\[x\\](http\\://e/x.png) \\*a\\* \\@team next"
    )
    assert md_text("# h www.e.com $x$ ~s~ &amp;") == "\\# h www\\.e.com \\$x\\$ \\~s\\~ \\&amp;"
    assert md_text("- item") == "\\- item"
    assert md_text("a\u202eb\x1b[2J") == "aU+202EbU+001B\\[2J"
    assert md_text("n_plus_one") == "n_plus_one"  # an identifier stays as it reads
    assert md_code("a | b") == "`a \\| b`"
    assert md_code("x `y` z") == "``x `y` z``"
    assert md_code("`y`") == "`` `y` ``"
