from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.audit.options import AuditOptions
from perftoolkit.audit.orchestrator import run_audit_and_report
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.management.arguments import add_option_arguments, options_from


class Command(BaseCommand):
    help = "Run Locust against this project under a real server; write report.json and index.html."

    def add_arguments(self, parser: CommandParser) -> None:
        add_option_arguments(parser, AuditOptions)

    def handle(self, *args: Any, **values: Any) -> None:
        options = options_from(AuditOptions, values)
        self.stdout.ending = ""  # rich ends its own lines and writes control codes
        try:
            outcome = run_audit_and_report(options, stdout=self.stdout)
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        if outcome.exit_code:
            raise CommandError("\n".join(outcome.problems), returncode=outcome.exit_code)
