from __future__ import annotations

import shutil
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.indexes.command import run_index_command
from perftoolkit.indexes.options import IndexOptions
from perftoolkit.management.arguments import add_option_arguments, options_from


class Command(BaseCommand):
    help = (
        "Propose indexes for a report's queries, verify each with the planner, write the migration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_option_arguments(parser, IndexOptions)

    def handle(self, *args: Any, **values: Any) -> None:
        options = options_from(IndexOptions, values)
        self.stdout.ending = self.stderr.ending = ""
        try:
            run_index_command(
                options,
                stdout=cast(TextIO, self.stdout),
                stderr=cast(TextIO, self.stderr),
                width=shutil.get_terminal_size((120, 24)).columns,
            )
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
