"""Overhead of perftoolkit and of its peers, as a ratio to no instrumentation, in one run.

    .venv/bin/python benchmarks/overhead.py                 # every configuration, 5 rounds
    .venv/bin/python benchmarks/overhead.py --only none "perftoolkit record" --rounds 9
    .venv/bin/python benchmarks/overhead.py --instructions  # perftoolkit vs none, valgrind

Five views on one SQLite database (`benchmarks/urls.py`): no query (a JSON response), one query,
21 queries (the N+1 of 20 the Django tools are usually compared on), 101 queries (the N+1 of
100), and one query returning 100 rows. Configurations (`benchmarks/settings.py`): none; the floor
(`connection.execute_wrapper` appending each statement to a list); perftoolkit recording (what an
audit or CI turns on: `PERFTOOLKIT_RECORD_DIR`, one line per request, held and written together by
default), the same with RECORD_BUFFER 0 (each line written as its request ends), in `log` mode
(the detectors after every response as well), and recording at SAMPLE_RATE 0.01; django-zeal,
nplusone, django-querycount, django-silk and django-debug-toolbar, each configured to do its work
on every request.

Each configuration runs in a worker process of its own (so a tool's app, patches and settings
never touch another's), all on the same copy of one database, and the workers are started afresh
every round: where a process's memory and code landed, and its string hashes, make one process
of the same code run a few per cent faster or slower than another for as long as it lives, and
a ratio of two long-lived processes carries that luck into every round. The workers take turns: a
round asks each worker in turn (starting one further along each round) for one batch of requests
to each view, so drift on the machine hits all alike. The time is the worker process's CPU time, all its threads (RECORD_BUFFER's background
write included; the lines still held at the end of a batch are written within its time); other
processes on a busy machine skew it less than wall time. A configuration's ratio is the median
over rounds of (its time / none's time in that round); "of totals" is the ratio of their times
over all rounds, which keeps what the median leaves out: a cost that comes in some rounds only
(a full garbage collection every few thousand requests). Responses are closed as a WSGI server
closes them, so work done after the response (the recording's write, analysis) is counted.

--instructions runs perftoolkit's configurations and none under `valgrind --tool=callgrind`
twice, with N and N+K requests: (difference)/K is what one request costs in instructions, a
number that does not move with the machine's load (it leaves out the kernel's side of write()).
With --misses the count runs under cachegrind's cache simulation and shows, beside the
instructions, the first-level cache misses a request adds (instruction and data): what makes a
tool's code cost two to three times as much amid a request as alone in a loop, where its code and
data stay in the caches. With --no-gc the counted process runs without the garbage collector: the count then repeats to a
few hundred instructions, which makes it the measure to compare two versions of the code by (it
leaves out what a request's garbage costs the collector).
"""

from __future__ import annotations

import argparse
import atexit
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

VIEWS = {
    "/empty/": "0 queries (JSON)",
    "/one/": "1 query",
    "/nplusone/": "21 queries (N+1 of 20)",
    "/hundred/": "101 queries (N+1 of 100)",
    "/rows/": "1 query, 100 rows",
}
SAMPLED = "perftoolkit record at 1%"
UNBUFFERED = "perftoolkit record, unbuffered"
CONFIGS = (
    "none",
    "middleware",
    "floor",
    "perftoolkit record",
    UNBUFFERED,
    "perftoolkit log",
    SAMPLED,
    "django-zeal",
    "nplusone",
    "django-querycount",
    "django-silk",
    "django-debug-toolbar",
)
PACKAGES = {
    "perftoolkit": "perftoolkit",
    "django-zeal": "django-zeal",
    "nplusone": "nplusone",
    "django-querycount": "django-querycount",
    "django-silk": "django-silk",
    "django-debug-toolbar": "django-debug-toolbar",
}
PEERS = ("django-zeal", "nplusone", "django-querycount", "django-silk", "django-debug-toolbar")


# -- the worker: one configuration, driven through stdin/stdout --------------------------------


def seed() -> None:
    from django.core.management import call_command

    from tests.corpus.models import Author, Book, Country, Publisher

    call_command("migrate", verbosity=0, run_syncdb=True)
    if Book.objects.exists():
        return
    publisher = Publisher.objects.create(name="p", country=Country.objects.create(name="c"))
    authors = Author.objects.bulk_create(
        [Author(name=f"author {i}", publisher=publisher) for i in range(100)]
    )
    Book.objects.bulk_create([Book(title=f"book {i}", author=authors[i]) for i in range(100)])


def requester() -> Callable[[str], str]:
    from django.core.handlers.wsgi import WSGIHandler

    wsgi = WSGIHandler()

    def call(path: str) -> str:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
        }
        answer: list[str] = []
        response: Any = wsgi(environ, lambda status, headers: answer.append(status))
        for _ in response:
            pass
        response.close()
        return answer[0]

    return call


def start(config: str, database: str) -> Callable[[str], str]:
    os.environ["BENCHMARK_CONFIG"] = config
    os.environ["BENCHMARK_DB"] = database
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    if config.startswith("perftoolkit") and config != "perftoolkit log":
        record_dir = tempfile.mkdtemp(prefix="perftoolkit-bench-")
        # Registered first, so it runs last: after the recorders' own exit flush.
        atexit.register(shutil.rmtree, record_dir, True)
        os.environ["PERFTOOLKIT_RECORD_DIR"] = record_dir
    if config == PAIRED_WORKER:
        os.environ["BENCHMARK_CONFIG"] = "perftoolkit record"  # the app and its middleware
    import warnings

    warnings.simplefilter("ignore")  # django-zeal warns on every N+1
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)
    return requester()


# --paired: perftoolkit's configurations in one worker process, switched between batches, so that
# no difference between processes (memory layout, a busier core) enters their ratios.
PAIRED_WORKER = "perftoolkit paired"
PAIRED = {
    "none": (False, {"MODE": "off"}),  # the middleware installed, measuring nothing
    "perftoolkit record": (True, {"MODE": "off"}),
    UNBUFFERED: (True, {"MODE": "off", "RECORD_BUFFER": 0}),
    "perftoolkit log": (False, {"MODE": "log"}),
    SAMPLED: (True, {"MODE": "off", "SAMPLE_RATE": 0.01}),
}


def paired_setting(config: str) -> None:
    from django.conf import settings

    from perftoolkit.conf import reset_settings

    flush()
    records, values = PAIRED[config]
    if records:
        os.environ["PERFTOOLKIT_RECORD_DIR"] = os.environ["BENCHMARK_RECORD_DIR"]
    else:
        os.environ.pop("PERFTOOLKIT_RECORD_DIR", None)
    settings.PERFTOOLKIT = values
    reset_settings()


def flush() -> None:
    from perftoolkit.middleware.recorder import flush_recorders

    flush_recorders()


def worker(config: str, database: str) -> None:
    """Answer `VIEW COUNT` lines with the CPU seconds COUNT requests took; stdout is the
    protocol, so what the tools print (django-querycount prints a table on every request) goes to
    a log file, kept only if the worker fails."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    log = os.open(f"{database}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    call = start(config, database)
    os.environ["BENCHMARK_RECORD_DIR"] = os.environ.get("PERFTOOLKIT_RECORD_DIR", "")
    protocol.write("ready\n")
    for line in sys.stdin:
        view, count = line.rstrip("\n").split(" ", 1)
        if view == "SET":  # the paired worker: another configuration, warmed up on the view
            view, config = count.split(" ", 1)
            paired_setting(config)
            for _ in range(20):
                call(view)
            protocol.write("set\n")
            continue
        if count == "check":
            protocol.write(f"{call(view)}\n")
            continue
        begin = time.process_time()
        for _ in range(int(count)):
            call(view)
        if config == PAIRED_WORKER or config.startswith("perftoolkit record"):
            flush()  # lines still held (RECORD_BUFFER) are built and written in this batch's time
        protocol.write(f"{time.process_time() - begin}\n")


# -- the coordinator ---------------------------------------------------------------------------


class Worker:
    def __init__(self, config: str, database: str, *, wait: bool = True) -> None:
        self.config = config
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", config, database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.log = f"{database}.log"
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait for the worker to have set up Django (workers started together start at once)."""
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {self.config} worker did not start: see {self.log}")

    def ask(self, view: str, count: str) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{view} {count}\n")
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit(f"the {self.config} worker stopped on {view}: see {self.log}")
        return answer.strip()

    def run(self, view: str, count: int) -> float:
        return float(self.ask(view, str(count)))

    def check(self, view: str) -> None:
        status = self.ask(view, "check")
        if not status.startswith("200"):
            raise SystemExit(f"{self.config} answers {view} with {status}")

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Paired:
    """One of perftoolkit's configurations in the shared paired worker: set before each batch."""

    def __init__(self, worker: Worker, config: str) -> None:
        self.worker = worker
        self.config = config

    def _set(self, view: str) -> None:
        # The settings are read again: caches kept per settings (shapes diagnosed, first runs,
        # endpoints) are warmed up again on the view before it is timed.
        if self.worker.ask("SET", f"{view} {self.config}") != "set":
            raise SystemExit(f"the paired worker could not switch to {self.config}")

    def run(self, view: str, count: int) -> float:
        self._set(view)
        return self.worker.run(view, count)

    def check(self, view: str) -> None:
        self._set(view)
        self.worker.check(view)

    def close(self) -> None:
        if self.worker.process.poll() is None:
            self.worker.close()


def supports(key: str) -> bool:
    """Whether the perftoolkit measured knows a setting (an older checkout, with --baseline)."""
    from perftoolkit.conf import KNOWN_KEYS

    return key in KNOWN_KEYS


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("django", *PACKAGES.values()):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "system": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def timing(
    configs: list[str], views: list[str], rounds: int, target: float, *, paired: bool = False
) -> dict[str, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    database = str(Path(tempfile.mkdtemp(prefix="perftoolkit-bench-db-")) / "db.sqlite3")
    os.environ["BENCHMARK_DB"] = database
    os.environ["BENCHMARK_CONFIG"] = "none"
    import django

    django.setup()
    seed()
    if "none" not in configs:
        configs = ["none", *configs]
    for config, key in ((SAMPLED, "SAMPLE_RATE"), (UNBUFFERED, "RECORD_BUFFER")):
        if config in configs and not supports(key):
            configs.remove(config)
    for config in [c for c in configs if c in PEERS]:
        package = PACKAGES[config]
        try:
            metadata.version(package)
        except metadata.PackageNotFoundError:
            print(f"skipped {config}: not installed (make bench installs it)", file=sys.stderr)
            configs.remove(config)
    copies = {}
    for config in configs if not paired else [PAIRED_WORKER]:
        copy = f"{database}.{len(copies)}"
        shutil.copyfile(database, copy)
        copies[config] = copy
    if paired:
        configs = [config for config in configs if config in PAIRED]
    started = time.time()
    load_before = os.getloadavg()
    batches: dict[tuple[str, str], int] = {}
    pids: dict[str, list[int]] = {}  # each configuration's worker, round by round (not paired)
    times = {view: {config: [] for config in configs} for view in views}
    workers: dict[str, Worker | Paired] = {}
    try:
        if paired:
            shared = Worker(PAIRED_WORKER, copies[PAIRED_WORKER])
            workers = {config: Paired(shared, config) for config in configs}
        for round_ in range(rounds):
            if not paired:
                # Fresh worker processes every round: a process's luck (where its memory and code
                # landed, its string hashes) stays with it, and would enter every round's ratio.
                workers = _started(configs, copies)
                for config, w in workers.items():
                    assert isinstance(w, Worker)
                    pids.setdefault(config, []).append(w.process.pid)
                print(f"round {round_ + 1} of {rounds}", file=sys.stderr, flush=True)
            order = configs[round_ % len(configs) :] + configs[: round_ % len(configs)]
            for view in views:
                for config, w in workers.items():
                    if paired and (view, config) in batches:
                        continue  # the paired worker warms up on the view at every switch
                    # Warmed up (imports, caches, prepared statements) as the round begins.
                    w.check(view)
                    w.run(view, min(20, batches.get((view, config), 20)))
                    if (view, config) not in batches:
                        # A batch takes about `target` seconds: a tool forty times slower than
                        # none is timed on fewer requests, not for forty times as long.
                        per_request = w.run(view, 20) / 20
                        batches[view, config] = max(5, min(2000, round(target / per_request)))
                for config in order:
                    batch = batches[view, config]
                    times[view][config].append(workers[config].run(view, batch) / batch * 1e6)
            if not paired:
                _close(workers)
    finally:
        _close(workers)
        shutil.rmtree(Path(database).parent, ignore_errors=True)
    results: dict[str, Any] = {}
    for view in views:
        results[view] = {
            "label": VIEWS[view],
            "batch": batches[view, "none"],
            "configurations": {
                config: {
                    "batch": batches[view, config],
                    "cpu_us": round(statistics.median(values), 1),
                    "ratio": round(
                        statistics.median(
                            value / base
                            for value, base in zip(values, times[view]["none"], strict=True)
                        ),
                        3,
                    ),
                    # What the rounds took together: a cost that comes in some rounds only (a
                    # full garbage collection every few thousand requests) is in it, where the
                    # median of the rounds leaves it out.
                    "ratio_of_totals": round(sum(values) / sum(times[view]["none"]), 3),
                    "rounds_us": [round(v, 1) for v in values],
                    **({"worker_pids": pids[config]} if config in pids else {}),
                }
                for config, values in times[view].items()
            },
        }
        print_view(view, results[view])
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "rounds": rounds,
        "round_target_seconds": target,
        "paired": paired,
        "fresh_workers_every_round": not paired,
        "versions": versions(),
        "machine": {**machine(), "load_average_before": [round(x, 2) for x in load_before]},
        "views": results,
    }


def _started(configs: list[str], copies: dict[str, str]) -> dict[str, Worker | Paired]:
    """A worker per configuration, started together (their Django set-ups overlap)."""
    workers: dict[str, Worker | Paired] = {}
    try:
        for config in configs:
            workers[config] = Worker(config, copies[config], wait=False)
        for w in workers.values():
            assert isinstance(w, Worker)
            w.ready()
    except BaseException:
        _close(workers)
        raise
    return workers


def _close(workers: dict[str, Worker | Paired]) -> None:
    for w in workers.values():
        w.close()


def print_view(view: str, result: dict[str, Any]) -> None:
    print(f"\n{view} — {result['label']} (batch {result['batch']})", flush=True)
    print(f"  {'configuration':<30} {'CPU µs/request':>15} {'ratio':>7} {'of totals':>10}")
    for config, value in result["configurations"].items():
        print(
            f"  {config:<30} {value['cpu_us']:>15,.1f} {value['ratio']:>6.2f}× "
            f"{value['ratio_of_totals']:>9.2f}×",
            flush=True,
        )


def markdown(data: dict[str, Any]) -> str:
    v, m = data["versions"], data["machine"]
    configs = list(next(iter(data["views"].values()))["configurations"])
    lines = [
        "# Overhead: ratio of CPU time per request to no instrumentation",
        "",
        f"Measured {data['measured_at']} ({data['seconds']} s): {m['cpu']}, {m['cores']} cores, "
        f"{m['system']}, load average {m['load_average_before'][0]} before and "
        f"{m['load_average'][0]} after; Python {v['python']}, Django {v['django']}; "
        f"median of {data['rounds']} interleaved rounds, "
        + (
            "every configuration in one worker process, switched between batches (`none`: "
            "perftoolkit's middleware installed, measuring nothing)."
            if data.get("paired")
            else "one worker process per configuration."
        ),
        "",
        "| configuration | version | "
        + " | ".join(r["label"] for r in data["views"].values())
        + " |",
        "|---|---|" + "---:|" * len(data["views"]),
    ]
    for config in configs:
        package = PACKAGES.get(config.split(" ")[0]) or PACKAGES.get(config)
        version = v.get(package, "") if package else ""
        cells = [f"{r['configurations'][config]['ratio']:.2f}×" for r in data["views"].values()]
        lines.append(f"| {config} | {version} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "CPU µs per request (median round):",
        "",
        "| configuration | " + " | ".join(r["label"] for r in data["views"].values()) + " |",
        "|---|" + "---:|" * len(data["views"]),
    ]
    for config in configs:
        cells = [f"{r['configurations'][config]['cpu_us']:,.1f}" for r in data["views"].values()]
        lines.append(f"| {config} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Ratio of the times over all rounds (what the median leaves out is in it: a cost that "
        "comes in some rounds only, such as a full garbage collection):",
        "",
        "| configuration | " + " | ".join(r["label"] for r in data["views"].values()) + " |",
        "|---|" + "---:|" * len(data["views"]),
    ]
    for config in configs:
        cells = [
            f"{r['configurations'][config].get('ratio_of_totals', 0.0):.2f}×"
            for r in data["views"].values()
        ]
        lines.append(f"| {config} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- instructions (valgrind) -------------------------------------------------------------------


def single(config: str, view: str, count: int, database: str, collect: bool = True) -> None:
    call = start(config, database)
    if not collect:
        # Whether a collection falls among the counted requests moves a count by thousands of
        # instructions: without it, two runs of one code agree to a few hundred.
        import gc

        gc.collect()
        gc.disable()
    if config.startswith("perftoolkit"):
        # The recorder compares its file's path with its descriptor every half second of wall
        # time, and writes held lines once the oldest is a second old: once per thousands of
        # requests natively, but every few under valgrind's slowdown, which made the count per
        # request vary with the machine's speed. Left out here: held lines are written by size.
        from perftoolkit.middleware import recorder

        recorder._RECHECK_SECONDS = float("inf")
        recorder._HOLD_SECONDS = 1e6  # finite: the writing thread waits for it
    for _ in range(5 + count):
        call(view)


# cachegrind's summary lines: instructions run, and first-level cache misses (instruction, data).
_CACHEGRIND = {
    "instructions": r"I\s+refs:\s+([\d,]+)",
    "I1 misses": r"I1\s+misses:\s+([\d,]+)",
    "D1 misses": r"D1\s+misses:\s+([\d,]+)",
}


def instructions(
    configs: list[str], views: list[str], extra: int, collect: bool = True, misses: bool = False
) -> None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind).")
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    database = str(Path(tempfile.mkdtemp(prefix="perftoolkit-bench-db-")) / "db.sqlite3")
    atexit.register(shutil.rmtree, Path(database).parent, True)
    os.environ["BENCHMARK_DB"] = database
    import django

    django.setup()
    seed()
    env = {**os.environ, "PYTHONHASHSEED": "0"}

    def collected(config: str, view: str, count: int) -> list[int]:
        if misses:
            command = [valgrind, "--tool=cachegrind", "--cache-sim=yes"]
            command += ["--cachegrind-out-file=/dev/null"]
        else:
            command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        command += [sys.executable, __file__, "--single", config, view, str(count), database]
        command += [] if collect else ["--no-gc"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        if not misses:
            return [int(re.findall(r"Collected : (\d+)", result.stderr)[-1])]
        return [
            int(re.findall(pattern, result.stderr)[-1].replace(",", ""))
            for pattern in _CACHEGRIND.values()
        ]

    columns = list(_CACHEGRIND) if misses else ["instructions"]
    print(f"{'view':<11} {'configuration':<30} {'instructions':>15} {'ratio':>7}", end="")
    print("".join(f" {name:>10}" for name in columns[1:]))
    for view in views:
        per_request = {}
        for config in ["none", *[c for c in configs if c != "none"]]:
            low, high = collected(config, view, 2), collected(config, view, 2 + extra)
            per_request[config] = [(h - lo) / extra for h, lo in zip(high, low, strict=True)]
        for config, values in per_request.items():
            ratio = values[0] / per_request["none"][0]
            print(f"{view:<11} {config:<30} {values[0]:>15,.0f} {ratio:>6.2f}×", end="")
            print("".join(f" {value:>10,.0f}" for value in values[1:]), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--target", type=float, default=0.1, help="seconds of `none` per round and view"
    )
    parser.add_argument("--only", nargs="+", choices=CONFIGS, help="these configurations only")
    parser.add_argument("--views", nargs="+", choices=list(VIEWS), default=list(VIEWS))
    parser.add_argument("--no-write", action="store_true", help="print, do not write results/")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="perftoolkit's configurations only, in one worker process switched between batches",
    )
    parser.add_argument("--instructions", action="store_true", help="count with valgrind")
    parser.add_argument("--requests", type=int, default=20, help="extra requests per valgrind run")
    parser.add_argument(
        "--misses",
        action="store_true",
        help="with --instructions: run under cachegrind's cache simulation and show each "
        "request's first-level cache misses (instruction and data) beside its instructions",
    )
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="with --instructions: the garbage collector off in the counted process (a count that "
        "repeats, without the collections a request's garbage causes)",
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--single", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    if args.single:
        single(*args.single[:2], int(args.single[2]), args.single[3], collect=not args.no_gc)
        return 0
    if args.instructions:
        configs = args.only or ["perftoolkit record", "perftoolkit log"]
        instructions(configs, args.views, args.requests, collect=not args.no_gc, misses=args.misses)
        return 0
    configs = list(args.only or (PAIRED if args.paired else CONFIGS))
    data = timing(configs, args.views, args.rounds, args.target, paired=args.paired)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    if not args.no_write and args.only is None:
        RESULTS.mkdir(exist_ok=True)
        name = "overhead_paired" if args.paired else "overhead"
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(markdown(data))
        print(f"\nwrote {RESULTS / name}.md and {name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
