"""`FixOptions`: every option of `manage.py perf_fix` and `perftoolkit fix`, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perftoolkit.core.options import option

PATCH_FILE = "perf-fixes.patch"


@dataclass(frozen=True, slots=True)
class FixOptions:
    report: Path = option(
        Path("report.json"),
        "The report.json whose N+1, lazy-relation and duplicate-query findings to fix.",
    )
    apply: bool = option(
        False, "Edit the files in place (only the verified fixes) and record them in the report."
    )
    only: tuple[str, ...] = option((), "Fix only this finding id (repeatable).")
    patch: Path = option(
        Path(PATCH_FILE), "Where the unified diff of the verified fixes goes (without --apply)."
    )
