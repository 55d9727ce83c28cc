"""What the report verbs do with their options, whichever front-end parsed them
(`perftoolkit report …` and `manage.py perf_report …`): print a report, render its page."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from perftoolkit.reporting.options import ReportHtmlOptions, ReportShowOptions


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
        from perftoolkit.reporting.console import make_console, render_run

        render_run(run, make_console(stdout))


def write_report_html(options: ReportHtmlOptions) -> Path:
    """The report's self-contained page (index.html beside it unless --output)."""
    from perftoolkit.reporting.comparing import find_report
    from perftoolkit.reporting.html import HTML_FILE, write_run_html
    from perftoolkit.reporting.schema import read_run

    source = find_report(options.report)
    return write_run_html(read_run(source), options.output or source.with_name(HTML_FILE))
