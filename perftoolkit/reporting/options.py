"""The options of `perftoolkit report …` and `manage.py perf_report …`, declared once per verb
(both front-ends build their parameters from these fields, see `perftoolkit.core.options`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perftoolkit.core.options import REQUIRED, option
from perftoolkit.core.runs.compare import DEFAULT_CONFIDENCE, DEFAULT_TOLERANCE
from perftoolkit.reporting.schema import REPORT_FILE

SHOW_FORMATS = ("terminal", "markdown", "json")


@dataclass(frozen=True, slots=True)
class ReportBuildOptions:
    record_dirs: tuple[Path, ...] = option(
        REQUIRED,
        "Directory PERFTOOLKIT_RECORD_DIR pointed at; several (one per server) merge.",
        argument=True,
    )
    output: Path = option(
        Path(REPORT_FILE), "Where to write report.json.", flags=("--output", "-o")
    )
    label: str | None = option(None, "Name of the run (default: the directory's name).")


@dataclass(frozen=True, slots=True)
class ReportShowOptions:
    report: Path = option(REQUIRED, "A report.json.", argument=True)
    format: str = option(
        "terminal", "terminal, markdown or json.", flags=("--format", "-f"), choices=SHOW_FORMATS
    )


@dataclass(frozen=True, slots=True)
class ReportCompareOptions:
    before: Path = option(
        REQUIRED, "The earlier report.json, or the directory holding it.", argument=True
    )
    after: Path = option(
        REQUIRED, "The later report.json, or the directory holding it.", argument=True
    )
    out_dir: Path = option(
        Path("reports/compare"),
        "Where to write compare.json, index.html and compare.md.",
        flags=("--out-dir", "-o"),
    )
    fail_on: str | None = option(
        None,
        "Exit 3 when an endpoint regressed (after writing the report).",
        choices=("regression",),
    )
    tolerance: float = option(
        DEFAULT_TOLERANCE,
        "The smallest latency change that counts as one, as a fraction: 0.1 = 10 % slower.",
    )
    confidence: float = option(
        DEFAULT_CONFIDENCE,
        "Confidence of the latency tests: 0.99 = a 1 % chance of calling noise a change.",
    )


@dataclass(frozen=True, slots=True)
class ReportHtmlOptions:
    report: Path = option(REQUIRED, "A report.json, or the directory holding it.", argument=True)
    output: Path | None = option(
        None,
        "Where to write the page (default: index.html beside it).",
        flags=("--output", "-o"),
    )
