from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.analysis import detection_options, detectors
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.recording import build_report
from perftoolkit.reporting.markdown import run_to_markdown
from perftoolkit.reporting.schema import read_run, write_run


class Command(BaseCommand):
    help = "Build a report.json from a record directory (build), or print one (show)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser(
            "build", help="Record directory → report.json, with this project's detectors."
        )
        build.add_argument("record_dir", type=Path)
        build.add_argument("-o", "--output", type=Path, default=Path("report.json"))
        build.add_argument("--label", default=None)
        show = sub.add_parser("show", help="Print a report.json as Markdown.")
        show.add_argument("report", type=Path)

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
            else:
                self.stdout.write(run_to_markdown(read_run(options["report"])), ending="")
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
