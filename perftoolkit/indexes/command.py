"""What `perf_indexes` and `perftoolkit indexes` do with their options: advise, optionally write
the migration, and print the advice (a table, or with --json the indexes[] list alone)."""

from __future__ import annotations

import io
from typing import TextIO

from perftoolkit.indexes.options import IndexOptions


def run_index_command(
    options: IndexOptions, *, stdout: TextIO, stderr: TextIO, width: int | None = None
) -> None:
    from perftoolkit.indexes.adviser import advise_report
    from perftoolkit.indexes.migration import (
        check_migration_target,
        describe_migration,
        write_index_migration,
    )
    from perftoolkit.reporting.console import make_console, render_indexes
    from perftoolkit.reporting.schema import dumps

    if options.write_migration:  # before any advice is computed
        check_migration_target(options.write_migration)
    result = advise_report(
        options.report,
        record_dir=options.record_dir,
        database=options.database,
        verify_with=options.verify_with,
        min_cost_factor=options.min_cost_factor,
        min_rows=options.min_rows,
        include_params=options.include_params,
        update_report=options.update_report,
    )
    app_label = options.write_migration
    written = (
        write_index_migration(result.advice, app_label, database=options.database)
        if app_label
        else None
    )
    if options.json_output:
        stdout.write(dumps([a.to_dict() for a in result.advice]))
    else:
        buffer = io.StringIO()
        render_indexes(result.advice, make_console(buffer, width=width), notes=result.notes)
        stdout.write(buffer.getvalue())
        if result.written:
            stdout.write("Updated: " + ", ".join(str(p) for p in result.written) + "\n")
    if app_label:  # with --json, stdout holds the list alone
        (stderr if options.json_output else stdout).write(describe_migration(written, app_label))
