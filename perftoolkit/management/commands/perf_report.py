from __future__ import annotations

from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.contrib.silk import SilkImportOptions
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.management.arguments import add_option_arguments, options_from
from perftoolkit.middleware.detectors import detection_options, detectors
from perftoolkit.reporting.commands import build_report_file, show_report, write_report_html
from perftoolkit.reporting.comparing import compare_reports, summary
from perftoolkit.reporting.options import (
    ReportBuildOptions,
    ReportCompareOptions,
    ReportHtmlOptions,
    ReportShowOptions,
)
from perftoolkit.reporting.schema import write_run

VERBS: dict[str, tuple[type, str]] = {
    "build": (
        ReportBuildOptions,
        "Record directories (several merge) → report.json, with this project's detectors.",
    ),
    "show": (ReportShowOptions, "Print a report.json: terminal tables, Markdown or JSON."),
    "compare": (ReportCompareOptions, "Compare two runs into OUT_DIR (HTML, JSON, Markdown)."),
    "html": (ReportHtmlOptions, "Write the self-contained HTML report of a report.json."),
    # Only here: silk's requests are read through its models, on the project's database.
    "from-silk": (
        SilkImportOptions,
        "django-silk's stored requests → report.json, with this project's detectors.",
    ),
}


class Command(BaseCommand):
    help = (
        "Build a report.json (from a record directory, or from-silk: django-silk's stored "
        "requests), print one, render its page, or compare two."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for verb, (options_class, text) in VERBS.items():
            add_option_arguments(sub.add_parser(verb, help=text, description=text), options_class)

    def handle(self, *args: Any, action: str, **values: Any) -> None:
        options: Any = options_from(VERBS[action][0], values)
        self.stdout.ending = ""  # each verb ends its own lines
        try:
            if isinstance(options, ReportBuildOptions):
                built = build_report_file(
                    options, detectors=detectors(), detection=detection_options()
                )
                self.stdout.write(built + "\n")
            elif isinstance(options, SilkImportOptions):
                from perftoolkit.contrib.silk import build_silk_report, parse_since

                run = build_silk_report(
                    since=parse_since(options.since) if options.since else None,
                    path_prefix=options.path_prefix,
                    label=options.label,
                )
                write_run(run, options.output)
                self.stdout.write(
                    f"{options.output}: {sum(e.requests for e in run.endpoints)} silk requests, "
                    f"{len(run.endpoints)} endpoints, {len(run.findings)} findings\n"
                )
            elif isinstance(options, ReportCompareOptions):
                comparison = compare_reports(
                    options.before,
                    options.after,
                    options.out_dir,
                    tolerance=options.tolerance,
                    confidence=options.confidence,
                    fail_on=options.fail_on,
                )
                self.stdout.write(summary(comparison, options.out_dir) + "\n")
            elif isinstance(options, ReportHtmlOptions):
                self.stdout.write(f"{write_report_html(options)}\n")
            else:
                show_report(options, cast(TextIO, self.stdout))
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        except OSError as exc:  # a path the system refuses that nothing above anticipated
            raise CommandError(f"{exc.filename}: {exc.strerror or exc}.", returncode=1) from exc
