from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.budgets.gate import BudgetOptions, run_budget_command
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.management.arguments import add_option_arguments, options_from
from perftoolkit.urlconf import keyer_routes, url_routes

ACTIONS = {
    "check": "Judge a report.json against perf-budgets.toml; exit 3 when an endpoint is over.",
    "record": "Write budgets from a report's measured values.",
    "update": "Lower the budgets a report now beats; never raise one without --allow-increase.",
}


class Command(BaseCommand):
    help = "Per-endpoint query budgets: check, record or update perf-budgets.toml from a report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for action, text in ACTIONS.items():
            command = sub.add_parser(action, help=text, description=text)
            add_option_arguments(command, BudgetOptions, action)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        chosen = options_from(BudgetOptions, options, action)
        roots = [Path(settings.BASE_DIR)] if getattr(settings, "BASE_DIR", None) else []
        self.stdout.ending = ""  # the console renderer ends its own lines
        try:
            run_budget_command(
                action,
                chosen,
                stdout=cast(TextIO, self.stdout),
                routes=url_routes() | keyer_routes(),
                roots=roots,
            )
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
