from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.core.runs.compare import DEFAULT_TOLERANCE
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.middleware.detectors import detection_options, detectors
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.comparing import compare_reports, summary
from perftoolkit.reporting.markdown import run_to_markdown
from perftoolkit.reporting.outputs import check_output_dir, check_output_file
from perftoolkit.reporting.schema import REPORT_FILE, build_summary, read_run, write_run


class Command(BaseCommand):
    help = "Build a report.json (build), print one (show), or compare two (compare)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser(
            "build",
            help="Record directories (several merge) → report.json, with this project's detectors.",
        )
        build.add_argument("record_dirs", type=Path, nargs="+", metavar="record_dir")
        build.add_argument("-o", "--output", type=Path, default=Path(REPORT_FILE))
        build.add_argument("--label", default=None)
        show = sub.add_parser("show", help="Print a report.json as Markdown.")
        show.add_argument("report", type=Path)
        compare = sub.add_parser("compare", help="Compare two runs into OUT_DIR (HTML, JSON, MD).")
        compare.add_argument("before", type=Path)
        compare.add_argument("after", type=Path)
        compare.add_argument("-o", "--out-dir", type=Path, default=Path("reports/compare"))
        compare.add_argument("--fail-on", choices=["regression"], default=None)
        compare.add_argument(
            "--tolerance",
            type=float,
            default=DEFAULT_TOLERANCE,
            help="p95 rise tolerated before an endpoint regressed (0.1 = 10%%), judged where both "
            "runs measured the endpoint at least 20 times",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "build":
                check_output_file(options["output"], "-o", REPORT_FILE)
                run = build_report(
                    options["record_dirs"],
                    label=options["label"],
                    detectors=detectors(),
                    options=detection_options(),
                )
                write_run(run, options["output"])
                self.stdout.write(build_summary(options["output"], run))
            elif action == "compare":
                out_dir = check_output_dir(options["out_dir"], "--out-dir")
                comparison = compare_reports(
                    options["before"],
                    options["after"],
                    out_dir,
                    tolerance=options["tolerance"],
                    fail_on=options["fail_on"],
                )
                self.stdout.write(summary(comparison, out_dir))
            else:
                self.stdout.write(run_to_markdown(read_run(options["report"])), ending="")
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        except OSError as exc:  # a path the system refuses that nothing above anticipated
            raise CommandError(f"{exc.filename}: {exc.strerror or exc}.", returncode=1) from exc
