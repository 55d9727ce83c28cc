"""`manage.py seed_sample --size small|medium|large [--reset]`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from sample_project.seed import SIZES, is_seeded, row_counts, seed


class Command(BaseCommand):
    help = "Fill the database with the sample project's deterministic data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--reset", action="store_true", help="wipe every table first")

    def handle(self, *args: Any, size: str, reset: bool, **options: Any) -> None:
        # The report goes to stderr (uncoloured): scripts that call_command() this and print
        # their own results on stdout, such as JSON, keep a clean stdout.
        report = self.stderr
        report.style_func = None
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        elif is_seeded():
            report.write("Already seeded: nothing to do (--reset wipes the data first).")
            return
        started = time.perf_counter()
        seed(size)
        seconds = time.perf_counter() - started
        counts = row_counts()
        report.write(f"Seeded {size} data: {sum(counts.values())} rows in {seconds:.1f} s")
        for label, count in counts.items():
            report.write(f"  {label:<28} {count:>8}")
