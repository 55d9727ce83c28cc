"""`IndexOptions`: every option of `manage.py perf_indexes` and `perftoolkit indexes`, declared once
(both front-ends build their flags from these fields, see `perftoolkit.core.options`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perftoolkit.core.options import REQUIRED, option

VERIFY_METHODS = ("hypopg", "rollback")
DEFAULT_MIN_COST_FACTOR = 1.5  # PostgreSQL: how many times cheaper a plan must get
DEFAULT_MIN_ROWS = 1000  # tables smaller than this are left alone


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """Index advice for a report.json, verified by the database's planner."""

    report: Path = option(REQUIRED, "A report.json.")
    json_output: bool = option(False, "Print only the indexes[] list as JSON.", flags=("--json",))
    update_report: bool = option(
        False, "Write the advice into the report, and render its index.html again."
    )
    write_migration: str | None = option(
        None, "Write an AddIndex migration into this app.", metavar="APP_LABEL"
    )
    record_dir: Path | None = option(
        None, "Where the sample parameters are (default: the report's record_dir)."
    )
    verify_with: str | None = option(
        None,
        "PostgreSQL: hypopg (default when present) or rollback.",
        choices=VERIFY_METHODS,
    )
    min_cost_factor: float = option(
        DEFAULT_MIN_COST_FACTOR, "PostgreSQL: how many times cheaper a plan must get."
    )
    min_rows: int = option(DEFAULT_MIN_ROWS, "Leave tables smaller than this alone.")
    database: str = option("default", "The database alias to EXPLAIN on.")
    include_params: bool = option(False, "Keep parameter values in the plans shown.")
