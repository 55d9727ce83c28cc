from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.audit.options import SCAFFOLD_STEPS, ScaffoldOptions
from perftoolkit.audit.scaffold import scaffold
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.management.arguments import add_option_arguments, options_from
from perftoolkit.reporting.console import StepsDisplay

SCAFFOLD_HELP = "Write a Locust profile from the URLconf: a task per route, real rows, a login."


class Command(BaseCommand):
    help = "Locust profiles for perf_audit: scaffold one from this project's routes."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        command = sub.add_parser("scaffold", help=SCAFFOLD_HELP, description=SCAFFOLD_HELP)
        add_option_arguments(command, ScaffoldOptions)

    def handle(self, *args: Any, action: str, **values: Any) -> None:
        options = options_from(ScaffoldOptions, values)
        try:
            with StepsDisplay(SCAFFOLD_STEPS) as progress:
                result = scaffold(options, progress)
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        self.stdout.write(result.summary(_shown(result.path, options.cwd)))
        self.stdout.write(f"Run it: python manage.py perf_audit --profile {result.path.stem}")


def _shown(path: Any, cwd: Any) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)
