from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.core.fix.outcome import render_table
from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.fix.options import FixOptions
from perftoolkit.fix.service import run_fix, summary
from perftoolkit.management.arguments import add_option_arguments, options_from


class Command(BaseCommand):
    help = (
        "Write the report's N+1, lazy-relation and duplicate-query fixes into the source, each "
        "kept only when a replay of the recorded requests shows fewer queries and the same "
        "responses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_option_arguments(parser, FixOptions)

    def handle(self, *args: Any, **values: Any) -> None:
        options = options_from(FixOptions, values)
        module = os.environ.get("DJANGO_SETTINGS_MODULE") or str(settings.SETTINGS_MODULE)
        try:
            result = run_fix(options, settings_module=module, progress=self.stderr.write)
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        self.stdout.write(render_table(result.outcomes))
        self.stdout.write(summary(result, options))
        if result.exit_code:
            raise CommandError("some fixes could not be verified", returncode=result.exit_code)
