"""Terminal tables in a log 80 columns wide: every column fits, and a long route folds in pieces a
reader can read, never a few letters a line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from perftoolkit.reporting.commands import show_report
from perftoolkit.reporting.console import (
    LOG_COLUMNS,
    ROUTE_MIN_WIDTH,
    AuditDisplay,
    log_width,
    make_console,
    render_audit_summary,
    render_run,
)
from perftoolkit.reporting.options import ReportShowOptions
from perftoolkit.reporting.schema import write_run
from tests.support.runs import Endpoint, judged_before_run, make_run

LONG = (
    "api/v2/nutritionplan/<int:pk>/nutritional_values/",
    "en/exercise/history/admin-control/revert/<int:history_pk>/<int:content_type_id>",
)


def _text(render: object, run: object) -> list[str]:
    out = io.StringIO()
    render(run, make_console(out, width=80))  # type: ignore[operator]
    return out.getvalue().splitlines()


@pytest.mark.parametrize("render", [render_run, render_audit_summary])
def test_tables_fit_80_columns_and_fold_routes_in_readable_pieces(render: object) -> None:
    run = make_run(
        "long",
        [
            Endpoint("GET", route, [30], 5, (100.0, 2000.0, 3000.0), "x.y", f"t{n}")
            for n, route in enumerate(LONG)
        ],
    )
    lines = _text(render, run)
    header = next(n for n, line in enumerate(lines) if line.startswith("endpoint"))
    width = lines[header].index("req") - 1
    rows = [
        line for line in lines[header + 1 :] if line.strip() and not line.startswith(("─", "note"))
    ]

    assert all(len(line) <= 80 for line in lines)
    assert width >= ROUTE_MIN_WIDTH
    pieces = [row[:width].rstrip() for row in rows]
    joined = "".join(p.strip() for p in pieces)
    assert joined == "".join(f"GET{route}" for route in LONG)
    # Each route: its method, then pieces as wide as the column; only its last one is shorter.
    groups: list[list[str]] = []
    for piece in pieces:
        if piece.startswith("GET"):
            groups.append([])
        groups[-1].append(piece.strip())
    for group in groups:
        assert all(len(p) >= ROUTE_MIN_WIDTH - 1 for p in group[1:-1]), group


def test_budget_column_keeps_whole_words() -> None:
    lines = _text(render_run, judged_before_run())

    assert all(len(line) <= 80 for line in lines)
    row = next(line for line in lines if line.startswith("GET api/courses/ "))
    assert row.rstrip().endswith("exceeded")


def test_report_show_into_a_pipe_is_132_columns_unless_columns_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report show > file` (a CI log): routes of up to ~60 characters stay on one line."""
    run = make_run("long", [Endpoint("GET", LONG[0], [30], 5, (1.0, 2.0, 3.0), "x.y", "t0")])
    write_run(run, tmp_path / "report.json")
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    show_report(ReportShowOptions(report=tmp_path / "report.json"), out)
    lines = out.getvalue().splitlines()
    assert [line for line in lines if line.startswith(f"GET {LONG[0]}")] != []
    assert max(map(len, lines)) <= LOG_COLUMNS == 132
    monkeypatch.setenv("COLUMNS", "100")
    assert log_width(io.StringIO()) is None


def test_counted_steps_off_a_terminal_print_a_line_at_the_start_and_each_tenth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from perftoolkit.reporting import console as console_module

    monkeypatch.setattr(console_module.time, "monotonic", lambda: 7.0)
    out = io.StringIO()
    with AuditDisplay(make_console(out, width=LOG_COLUMNS)) as display:
        for done in range(1, 26):
            display.steps("pages asked", done, 25)

    assert out.getvalue().splitlines() == [
        f"[    0s] pages asked: {n} of 25" for n in (1, 3, 5, 8, 10, 13, 15, 18, 20, 23, 25)
    ]
