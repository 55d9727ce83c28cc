from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.audit.orchestrator import FAIL_ON, AuditOptions, run_audit_and_report
from perftoolkit.audit.servers import SERVER_KINDS
from perftoolkit.exceptions import PerfToolkitError


class Command(BaseCommand):
    help = "Run Locust against this project under a real server; write report.json and index.html."

    def add_arguments(self, parser: CommandParser) -> None:
        add = parser.add_argument
        add("--profile", "-p", action="append", dest="profiles", help="name in loadtests/ or path")
        add("--users", type=int, default=10)
        add("--spawn-rate", type=float, default=5.0)
        add("--run-time", default="30s", help="30s, 2m, 1m30s")
        add("--workers", type=int, default=0, help="Locust worker processes (distributed)")
        add("--url", help="audit a server you already run")
        add("--record-dir", type=Path, help="with --url: that server's PERFTOOLKIT_RECORD_DIR")
        add("--server", choices=SERVER_KINDS, default="gunicorn")
        add("--server-workers", type=int, default=2)
        add("--out-dir", type=Path, default=Path("reports"))
        add("--label")
        add("--compare", help="earlier run: label, directory or report.json")
        add(
            "--tolerance",
            type=float,
            help="p95 rise tolerated by --compare (0.1 = 10%%), judged where both runs measured the "
            "endpoint at least 20 times",
        )
        add("--fail-on", action="append", choices=FAIL_ON, default=[])
        add("--force", action="store_true", help="replace an earlier complete run")
        add("--quiet", action="store_true")
        add("--json", action="store_true", dest="json_output", help="print report.json")

    def handle(self, *args: Any, profiles: list[str] | None, **o: Any) -> None:
        fields = AuditOptions.__dataclass_fields__
        options = AuditOptions(
            profiles=tuple(profiles or ["smoke"]),
            fail_on=tuple(o.pop("fail_on")),
            **{k: v for k, v in o.items() if k in fields and v is not None},
        )
        self.stdout.ending = ""  # rich ends its own lines and writes control codes
        try:
            outcome = run_audit_and_report(
                options,
                stdout=self.stdout,
                quiet=o["quiet"],
                json_output=o["json_output"],
            )
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        if outcome.exit_code:
            raise CommandError("\n".join(outcome.problems), returncode=outcome.exit_code)
