"""Overhead of perftoolkit's middleware, as a ratio to no instrumentation, measured side by side.

    .venv/bin/python benchmarks/overhead.py                  # CPU time, alternating rounds
    .venv/bin/python benchmarks/overhead.py --instructions   # instructions counted by valgrind

Two views on one SQLite database: one that runs no query, and one that runs 21 (20 books, then
each book's author: the N+1 of 20 the Django tools are usually compared on). Configurations:
no instrumentation; recording (what an audit or a CI run turns on: `PERFTOOLKIT_RECORD_DIR`, one
JSON line per request); recording plus `log` mode (the detectors run after every response).

Timing: every configuration is its own WSGI handler in this one process; rounds alternate between
them so drift hits all alike; time is this thread's CPU time, so other processes on a busy machine
skew it less; each ratio is the median of per-round means. Responses are closed as a WSGI server
closes them, so the work done after the response (analysis, the recording's write) is counted.

Instructions: each configuration runs in its own process under `valgrind --tool=callgrind` twice,
with N and N+K requests; (difference)/K is the instructions one request costs. This number does
not move with machine load, but it leaves out the kernel's side of the recording's write().
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
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
VIEWS = ("/empty/", "/nplusone/")
CONFIGS = ("no instrumentation", "record", "record + log")


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


def requester(config: str) -> Callable[[str], None]:
    """A function that makes one request through the given configuration."""
    from perftoolkit.conf import override_mode

    if config == "no instrumentation":
        return handler([])
    measured = handler([MIDDLEWARE])
    mode = "log" if config == "record + log" else "off"

    def call(path: str) -> None:
        with override_mode(mode):
            measured(path)

    return call


def setup() -> None:
    django.setup()
    seed()
    os.environ["PERFTOOLKIT_RECORD_DIR"] = tempfile.mkdtemp(prefix="perftoolkit-bench-")
    from perftoolkit.conf import reset_settings

    reset_settings()


def timing(rounds: int, batch: int) -> None:
    setup()
    calls = {config: requester(config) for config in CONFIGS}
    print(
        f"Django {django.get_version()}, Python {sys.version.split()[0]}; {rounds} rounds of {batch} requests"
    )
    print(f"{'view':<11} {'configuration':<20} {'CPU µs/request':>15} {'ratio':>7}")
    for view in VIEWS:
        for call in calls.values():  # warm up: imports, caches, statement preparation
            for _ in range(batch // 4):
                call(view)
        times: dict[str, list[float]] = {config: [] for config in calls}
        for _ in range(rounds):
            for config, call in calls.items():
                start = time.thread_time()
                for _ in range(batch):
                    call(view)
                times[config].append((time.thread_time() - start) / batch * 1e6)
        base = statistics.median(times["no instrumentation"])
        for config, values in times.items():
            value = statistics.median(values)
            print(f"{view:<11} {config:<20} {value:>15.1f} {value / base:>6.2f}×")


def single(config: str, view: str, count: int) -> None:
    setup()
    call = requester(config)
    for _ in range(5):
        call(view)
    for _ in range(count):
        call(view)


def instructions(extra: int) -> None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind).")
    env = {**os.environ, "PYTHONHASHSEED": "0"}

    def collected(config: str, view: str, count: int) -> int:
        command = [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
        ]
        result = subprocess.run(
            [*command, "--single", config, view, str(count)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(re.findall(r"Collected : (\d+)", result.stderr)[-1])

    print(
        f"Django {django.get_version()}, Python {sys.version.split()[0]}; instructions per request (valgrind)"
    )
    print(f"{'view':<11} {'configuration':<20} {'instructions':>15} {'ratio':>7}")
    for view in VIEWS:
        per_request: dict[str, float] = {}
        for config in CONFIGS:
            low, high = collected(config, view, 2), collected(config, view, 2 + extra)
            per_request[config] = (high - low) / extra
        base = per_request["no instrumentation"]
        for config, value in per_request.items():
            print(f"{view:<11} {config:<20} {value:>15,.0f} {value / base:>6.2f}×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind"
    )
    parser.add_argument("--requests", type=int, default=20, help="extra requests per valgrind run")
    parser.add_argument(
        "--single", nargs=3, metavar=("CONFIG", "VIEW", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.single:
        single(args.single[0], args.single[1], int(args.single[2]))
    elif args.instructions:
        instructions(args.requests)
    else:
        timing(args.rounds, args.batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
