from __future__ import annotations

from argparse import BooleanOptionalAction
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.budgets.gate import BudgetOptions, run_budget_command
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.urlconf import keyer_routes, url_routes

ACTIONS = {
    "check": "Judge a report.json against perf-budgets.toml; exit 3 when an endpoint is over.",
    "record": "Write budgets from a report's measured values.",
    "update": "Lower the budgets a report now beats; never raise one without --allow-increase.",
}
# (flags, the actions that take them, argparse keywords): the options of `perftoolkit budget`.
OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("--report", "check record update", {"type": Path, "required": True}),
    ("--budgets", "check record update", {"type": Path, "help": "default: perf-budgets.toml"}),
    ("--junit-xml", "check", {"type": Path, "help": "one testcase per endpoint"}),
    ("--markdown", "check", {"type": Path, "help": "a PR-comment table"}),
    ("-o --output", "check", {"type": Path, "help": "the report with endpoints[].budget"}),
    ("--github-annotations", "check", {"dest": "annotations", "action": BooleanOptionalAction}),
    ("--headroom", "record update", {"help": "add N queries or N%% to measured values"}),
    ("--allow-increase", "update", {"action": "store_true"}),
    ("--dry-run", "update", {"action": "store_true"}),
]


class Command(BaseCommand):
    help = "Per-endpoint query budgets: check, record or update perf-budgets.toml from a report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for action, text in ACTIONS.items():
            command = sub.add_parser(action, help=text, description=text)
            for flag, actions, keywords in OPTIONS:
                if action in actions.split():
                    command.add_argument(*flag.split(), **keywords)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        known = BudgetOptions.__dataclass_fields__
        chosen = BudgetOptions(**{k: v for k, v in options.items() if k in known and v is not None})
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
