"""Overhead of perftoolkit's middleware, as a ratio to no instrumentation, measured side by side.

    .venv/bin/python benchmarks/overhead.py [--rounds 15] [--batch 200]

Every configuration is its own WSGI handler in this one process; rounds alternate between them
so drift (CPU frequency, caches) hits all alike, and each ratio is the median of per-round
means. Time is this thread's CPU time, so other processes on a busy machine do not skew it.
Responses are closed like a WSGI server closes them, so work done after the response (analysis,
the recording's write) is counted.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django

MIDDLEWARE = "perftoolkit.middleware.QueryBudgetMiddleware"


def seed() -> None:
    from django.core.management import call_command

    from tests.corpus.models import Author, Book, Country, Publisher

    call_command("migrate", verbosity=0)
    if Book.objects.exists():
        return
    publisher = Publisher.objects.create(name="p", country=Country.objects.create(name="c"))
    authors = [Author.objects.create(name=f"author {i}", publisher=publisher) for i in range(20)]
    Book.objects.bulk_create([Book(title=f"book {i}", author=authors[i]) for i in range(20)])


def handler(middleware: list[str]) -> Callable[[str], None]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware):
        wsgi = WSGIHandler()

    def call(path: str) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
        }
        response: Any = wsgi(environ, lambda status, headers: None)
        response.close()

    return call


def measure(
    calls: dict[str, Callable[[], None]], rounds: int, batch: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm up: imports, caches, statement preparation
        for _ in range(batch // 4):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.thread_time()
            for _ in range(batch):
                call()
            timings[name].append((time.thread_time() - start) / batch * 1e6)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    django.setup()
    seed()
    from perftoolkit.conf import override_mode, reset_settings

    record_dir = tempfile.mkdtemp(prefix="perftoolkit-bench-")
    bare, measured = handler([]), handler([MIDDLEWARE])

    def with_mode(mode: str, call: Callable[[str], None], path: str) -> Callable[[], None]:
        def run() -> None:
            with override_mode(mode):
                call(path)

        return run

    os.environ["PERFTOOLKIT_RECORD_DIR"] = record_dir
    reset_settings()
    print(
        f"Django {django.get_version()}, Python {sys.version.split()[0]}; {args.rounds} rounds of {args.batch} requests"
    )
    print(f"{'view':<10} {'configuration':<28} {'CPU µs/req':>11} {'ratio':>7}")
    for view in ("/empty/", "/nplusone/"):
        calls = {
            "no instrumentation": lambda v=view: bare(v),
            "record (audit, CI)": with_mode("off", measured, view),
            "record + log (detectors)": with_mode("log", measured, view),
        }
        timings = measure(calls, args.rounds, args.batch)
        base = statistics.median(timings["no instrumentation"])
        for name, values in timings.items():
            value = statistics.median(values)
            print(f"{view:<10} {name:<28} {value:>11.1f} {value / base:>6.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
