from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from perftoolkit.exceptions import PerfToolkitError
from perftoolkit.indexes.adviser import DEFAULT_MIN_COST_FACTOR, DEFAULT_MIN_ROWS, advise_report
from perftoolkit.indexes.explain import VERIFY_METHODS
from perftoolkit.indexes.migration import (
    check_migration_target,
    describe_migration,
    write_index_migration,
)
from perftoolkit.reporting.console import make_console, render_indexes
from perftoolkit.reporting.schema import dumps


class Command(BaseCommand):
    help = (
        "Propose indexes for a report's queries, verify each with the planner, write the migration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--report", type=Path, required=True, help="A report.json.")
        parser.add_argument("--json", action="store_true", help="Print only the indexes[] list.")
        parser.add_argument(
            "--update-report", action="store_true", help="Write it into the report."
        )
        parser.add_argument("--write-migration", metavar="APP_LABEL", help="AddIndex migration.")
        parser.add_argument("--record-dir", type=Path, help="Default: the report's record_dir.")
        parser.add_argument("--verify-with", choices=VERIFY_METHODS, help="PostgreSQL only.")
        parser.add_argument("--min-cost-factor", type=float, default=DEFAULT_MIN_COST_FACTOR)
        parser.add_argument("--min-rows", type=int, default=DEFAULT_MIN_ROWS)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--include-params", action="store_true", help="Keep values in plans.")

    def handle(self, *args: Any, **options: Any) -> None:
        app_label = options["write_migration"]
        try:
            if app_label:
                check_migration_target(app_label)
            result = advise_report(
                options["report"],
                record_dir=options["record_dir"],
                database=options["database"],
                verify_with=options["verify_with"],
                min_cost_factor=options["min_cost_factor"],
                min_rows=options["min_rows"],
                include_params=options["include_params"],
                update_report=options["update_report"],
            )
            written = (
                write_index_migration(result.advice, app_label, database=options["database"])
                if app_label
                else None
            )
        except PerfToolkitError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        if options["json"]:
            self.stdout.write(dumps([a.to_dict() for a in result.advice]), ending="")
        else:
            buffer = io.StringIO()
            width = shutil.get_terminal_size((120, 24)).columns
            render_indexes(result.advice, make_console(buffer, width=width), notes=result.notes)
            self.stdout.write(buffer.getvalue(), ending="")
        if app_label:  # with --json, stdout holds the list alone
            out = self.stderr if options["json"] else self.stdout
            out.write(describe_migration(written, app_label), ending="")
