"""Before/after comparisons on disk: the one implementation behind `perftoolkit report compare`,
`manage.py perf_report compare` and `perf_audit --compare`.

`write_comparison()` writes `compare.json` (`perftoolkit.compare/1`, the record), `index.html`
and `compare.md` (views of it) into one directory, each file atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from perftoolkit.core.runs.compare import DEFAULT_CONFIDENCE, DEFAULT_TOLERANCE, Comparison, compare
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.exceptions import ConfigurationError, RegressionDetected, ReportFormatError
from perftoolkit.reporting.html import TargetsArg, render_compare_html
from perftoolkit.reporting.markdown import comparison_to_markdown
from perftoolkit.reporting.outputs import check_output_dir
from perftoolkit.reporting.schema import REPORT_FILE, read_run, write_json, write_text

FAIL_ON = ("regression",)


def write_comparison(
    before: AuditRun,
    after: AuditRun,
    out_dir: Path,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    confidence: float = DEFAULT_CONFIDENCE,
    targets: TargetsArg = None,
) -> Comparison:
    """Compare two runs and write compare.json, index.html and compare.md into `out_dir`."""
    check_verdict_options(tolerance, confidence)
    comparison = compare(before, after, tolerance=tolerance, confidence=confidence)
    out = Path(out_dir)
    html = render_compare_html(comparison, before, after, targets=targets)
    write_json(comparison.to_dict(), out / "compare.json")
    write_text(html, out / "index.html")
    write_text(comparison_to_markdown(comparison), out / "compare.md")
    return comparison


def check_verdict_options(tolerance: float, confidence: float) -> None:
    """--tolerance and --confidence, or a clear error naming the one that is wrong."""
    if not tolerance >= 0:  # NaN fails too
        raise ConfigurationError(
            f"--tolerance is {tolerance:g}; it is the smallest latency change that counts, as a "
            "fraction of the before value, so it must be 0 or more (0.1: +10 %)."
        )
    if not 0.5 <= confidence < 1:
        raise ConfigurationError(
            f"--confidence is {confidence:g}; it is the confidence of the latency tests, a "
            "fraction from 0.5 up to (not including) 1, e.g. 0.99 for 99 %."
        )


def find_report(path: str | os.PathLike[str]) -> Path:
    """A report.json given as itself or as the directory holding it."""
    candidate = Path(path)
    if candidate.is_dir():
        inside = candidate / REPORT_FILE
        if inside.is_file():
            return inside
        raise ReportFormatError(
            f"{candidate} is a directory without a {REPORT_FILE}. Give the path of a report.json "
            f"(or of the directory an audit wrote it to); if {candidate} is a record directory, "
            f"build one first: `perftoolkit report build {candidate} -o {inside}`."
        )
    return candidate


def compare_reports(
    before: str | os.PathLike[str],
    after: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    confidence: float = DEFAULT_CONFIDENCE,
    fail_on: str | None = None,
    targets: TargetsArg = None,
) -> Comparison:
    """Read two report.json files (or their directories), write the comparison, and with
    `fail_on="regression"` raise RegressionDetected (exit 3) after writing when one regressed."""
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigurationError(
            f"--fail-on {fail_on!r} is not a gate a comparison has; use --fail-on regression."
        )
    check_verdict_options(tolerance, confidence)
    out = check_output_dir(Path(out_dir), "--out-dir")  # before any work
    old = read_run(find_report(before))
    new = read_run(find_report(after))
    comparison = write_comparison(
        old, new, out, tolerance=tolerance, confidence=confidence, targets=targets
    )
    if fail_on == "regression" and comparison.regressions:
        raise RegressionDetected(regression_message(comparison, out))
    return comparison


def summary(comparison: Comparison, out_dir: Path) -> str:
    """One line for a terminal: where the report is and what it says."""
    t = comparison.totals
    n = len(comparison.regressions)
    unjudged = len(comparison.not_judged)
    per_request = (
        f"queries per request {t.queries_per_request.before:g} → {t.queries_per_request.after:g}, "
        if t.queries_per_request.before is not None and t.queries_per_request.after is not None
        else ""
    )
    return (
        f"{out_dir / 'index.html'}: {comparison.before.label} → {comparison.after.label}, "
        f"{len(comparison.endpoints)} endpoints compared, {per_request}"
        f"findings {len(comparison.findings_fixed)} fixed / {len(comparison.findings_new)} new / "
        f"{len(comparison.findings_remaining)} remaining, "
        + (f"{n} regression{'s' if n != 1 else ''}" if n else "no regressions")
        + (f", latency not judged on {unjudged} (too few requests)" if unjudged else "")
    )


def regression_message(comparison: Comparison, out_dir: Path) -> str:
    listed = "; ".join(f"{e.key} ({', '.join(e.regressions)})" for e in comparison.regressions)
    n = len(comparison.regressions)
    return (
        f"{n} endpoint{'s' if n != 1 else ''} regressed from {comparison.before.label} to "
        f"{comparison.after.label}: {listed}. See {out_dir / 'index.html'}."
    )
