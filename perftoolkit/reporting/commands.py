"""What the report verbs do with their options, whichever front-end parsed them
(`perftoolkit report …` and `manage.py perf_report …`): print a report, render its page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from perftoolkit.core.findings import DetectionOptions
from perftoolkit.core.runs.run import Detector
from perftoolkit.reporting.options import ReportBuildOptions, ReportHtmlOptions, ReportShowOptions


def build_report_file(
    options: ReportBuildOptions,
    *,
    detectors: Sequence[Detector] | None = None,
    detection: DetectionOptions | None = None,
) -> str:
    """Record directories → report.json (the output checked before any work); the line to print."""
    from perftoolkit.middleware.recording import build_report
    from perftoolkit.reporting.outputs import check_output_file
    from perftoolkit.reporting.schema import REPORT_FILE, build_summary, write_run

    check_output_file(options.output, "-o", REPORT_FILE)
    run = build_report(
        options.record_dirs, label=options.label, detectors=detectors, options=detection
    )
    write_run(run, options.output)
    return build_summary(options.output, run)


def show_report(options: ReportShowOptions, stdout: TextIO) -> None:
    """Print a report: on a terminal as tables (rich), or as Markdown or JSON."""
    from perftoolkit.reporting.schema import dumps, read_run, run_to_dict

    run = read_run(options.report)
    if options.format == "json":
        stdout.write(dumps(run_to_dict(run, location=options.report)))
    elif options.format == "markdown":
        from perftoolkit.reporting.markdown import run_to_markdown

        stdout.write(run_to_markdown(run))
    else:
        from perftoolkit.reporting.console import log_width, make_console, render_run

        render_run(run, make_console(stdout, width=log_width(stdout)))


def write_report_html(options: ReportHtmlOptions) -> Path:
    """The report's self-contained page (index.html beside it unless --output)."""
    from perftoolkit.reporting.comparing import find_report
    from perftoolkit.reporting.html import HTML_FILE, write_run_html
    from perftoolkit.reporting.outputs import check_output_file
    from perftoolkit.reporting.schema import read_run

    source = find_report(options.report)
    target = check_output_file(options.output or source.with_name(HTML_FILE), "-o", HTML_FILE)
    return write_run_html(read_run(source), target)
