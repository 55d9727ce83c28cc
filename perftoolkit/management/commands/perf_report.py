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
from perftoolkit.reporting.schema import REPORT_FILE, read_run, write_run


class Command(BaseCommand):
    help = (
        "Build a report.json (build, or from-silk: django-silk's stored requests), print one "
        "(show), or compare two (compare)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser(
            "build", help="Record directory → report.json, with this project's detectors."
        )
        build.add_argument("record_dir", type=Path)
        build.add_argument("-o", "--output", type=Path, default=Path(REPORT_FILE))
        build.add_argument("--label", default=None)
        silk = sub.add_parser(
            "from-silk",
            help="django-silk's stored requests → report.json, with this project's detectors.",
        )
        silk.add_argument(
            "--since", default=None, help="only requests from then on: 2026-11-20, 12h, 7d"
        )
        silk.add_argument("--path-prefix", default=None, help="only paths starting with this")
        silk.add_argument("-o", "--output", type=Path, default=Path(REPORT_FILE))
        silk.add_argument("--label", default="silk")
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
                run = build_report(
                    options["record_dir"],
                    label=options["label"],
                    detectors=detectors(),
                    options=detection_options(),
                )
                write_run(run, options["output"])
                self.stdout.write(
                    f"{options['output']}: {len(run.endpoints)} endpoints, "
                    f"{sum(e.requests for e in run.endpoints)} requests, {len(run.findings)} findings"
                )
            elif action == "from-silk":
                from perftoolkit.contrib.silk import build_silk_report, parse_since

                since = options["since"]
                run = build_silk_report(
                    since=parse_since(since) if since else None,
                    path_prefix=options["path_prefix"],
                    label=options["label"],
                )
                write_run(run, options["output"])
                self.stdout.write(
                    f"{options['output']}: {sum(e.requests for e in run.endpoints)} silk requests, "
                    f"{len(run.endpoints)} endpoints, {len(run.findings)} findings"
                )
            elif action == "compare":
                out_dir = options["out_dir"]
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
