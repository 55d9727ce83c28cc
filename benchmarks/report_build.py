"""`perftoolkit report build` on synthetic record directories of 10k, 100k and 1M requests.

    .venv/bin/python benchmarks/report_build.py                       # 10k and 100k
    .venv/bin/python benchmarks/report_build.py --sizes 10000 100000 1000000
    .venv/bin/python benchmarks/report_build.py --baseline /path/to/older/checkout

The directories are made from real lines: the sample project's `before` variant (about 100
queries a request on its list views) is recorded once through the test client, then every
synthetic request is one of those lines, varied as production traffic varies: four worker files
written in time order, each request's duration and every query's time drawn around the recorded
ones, fresh parameter hashes per request, one request in 50 answering 500 or 404, and one in five
cut short by a few rows (a shorter page: another statement sequence, so another shape to analyse);
a signed-in request by one of a thousand users, and one request in three with a query string of
its own (the same shape: no detector reads either).

Each build runs in a process of its own (`perftoolkit report build DIR -o report.json`), timed by
the wall clock, with the peak resident memory the kernel reports for that process (wait4's
ru_maxrss). `--baseline` builds the same directories with another checkout's code on the same
Python (PYTHONPATH first), for a before/after table; builds that would not fit the machine are
skipped with `--baseline-max`. Results go to benchmarks/results/report_build.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SAMPLE = ROOT / "sample_project"
WORKERS = 4
# The sample's documented endpoints plus its other list views, as (user, path); ids are filled in
# from the list responses.
PATHS = (
    (None, "/api/courses/"),
    (None, "/api/courses/{course}/"),
    (None, "/api/courses/{course}/reviews/"),
    (None, "/api/categories/"),
    ("instructor1", "/api/instructor/courses/"),
    ("student1", "/api/auth/profile/"),
    ("student1", "/api/enrollments/"),
    ("student1", "/api/payments/"),
    ("advertiser1", "/api/campaigns/"),
    ("advertiser1", "/api/campaigns/{campaign}/payouts/"),
    ("manager1", "/api/projects/"),
    ("manager1", "/api/media/"),
    (None, "/api/users/recent/"),
    (None, "/catalog/"),
)


def record_base(out: Path) -> None:
    """Runs inside sample_project/ (SAMPLE_VARIANT=before, PERFTOOLKIT_RECORD_DIR set)."""
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    with open(os.devnull, "w") as quiet:
        call_command("seed_sample", "--size", "small", stdout=quiet, stderr=quiet)
    users = get_user_model().objects

    def client(user: str | None) -> Client:
        c = Client()
        if user:
            c.force_login(users.get(username=user))
        return c

    def first_id(response: Any) -> int:
        payload = response.json()
        rows = payload.get("results", payload) if isinstance(payload, dict) else payload
        return int(rows[0]["id"])

    ids = {
        "course": first_id(client(None).get("/api/courses/")),
        "campaign": first_id(client("advertiser1").get("/api/campaigns/")),
    }
    for _ in range(3):
        for user, path in PATHS:
            client(user).get(path.format(**ids))
    lines = [
        line
        for file in sorted(Path(os.environ["PERFTOOLKIT_RECORD_DIR"]).glob("*.jsonl"))
        for line in file.read_text().splitlines()
        if line.strip()
    ]
    out.write_text("\n".join(lines) + "\n")


def base_lines(work: Path) -> list[dict[str, Any]]:
    base = work / "base.jsonl"
    if not base.exists():
        work.mkdir(parents=True, exist_ok=True)
        record_dir = work / "base-recording"
        shutil.rmtree(record_dir, ignore_errors=True)
        env = {
            **os.environ,
            "SAMPLE_VARIANT": "before",
            "PERFTOOLKIT_RECORD_DIR": str(record_dir),
            "DATABASE_URL": f"sqlite:///{work / 'sample-before.sqlite3'}",
        }
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--record-base", str(base)],
            cwd=SAMPLE,
            env=env,
            check=True,
        )
    return [json.loads(line) for line in base.read_text().splitlines() if line.strip()]


def synthesize(base: list[dict[str, Any]], requests: int, out: Path, seed: int = 1) -> None:
    """`requests` lines made from `base`, spread over WORKERS files in time order."""
    rng = random.Random(seed)
    out.mkdir(parents=True)
    handles = [(out / f"{4000 + w}.jsonl").open("w") for w in range(WORKERS)]
    clock = 1_800_000_000.0
    try:
        for i in range(requests):
            line = dict(base[rng.randrange(len(base))])
            rows = [list(row) for row in line["queries"]]
            if rng.random() < 0.2 and len(rows) > 20:
                del rows[len(rows) - rng.randint(1, 5) :]  # a shorter page
            keys: dict[str, str] = {}
            for row in rows:
                row[1] = round(row[1] * rng.uniform(0.5, 2.0), 3)
                if len(row) > 5 and row[5] is not None:
                    row[5] = keys.setdefault(row[5], f"{rng.getrandbits(64):016x}")
            clock += rng.expovariate(50.0)
            line.update(
                queries=rows,
                started_at=round(clock, 6),
                duration_ms=round(line["duration_ms"] * rng.uniform(0.5, 2.0), 3),
                status=500 if i % 100 == 7 else 404 if i % 100 == 57 else line["status"],
            )
            if "user" in line:
                line["user"] = rng.randint(1, 1000)
            if rng.random() < 1 / 3:
                line["query"] = f"page={rng.randint(1, 50)}&q={rng.getrandbits(32):x}"
            handles[i % WORKERS].write(json.dumps(line, separators=(",", ":")) + "\n")
    finally:
        for handle in handles:
            handle.close()


# The build's own peak: VmHWM of its address space, read as it exits (a forked child's ru_maxrss
# starts from its parent's, so wait4 would report this benchmark's memory instead).
_CHILD = """
import os, sys
from perftoolkit.cli.main import main
try:
    code = main(sys.argv[1:])
finally:
    status = open("/proc/self/status").read()
    hwm = next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]
    open(os.environ["BENCH_PEAK_FILE"], "w").write(hwm)
sys.exit(code)
"""


def build(record_dir: Path, output: Path, pythonpath: str | None) -> dict[str, float]:
    """One `perftoolkit report build` in its own process: wall seconds and peak RSS (MB)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    command = [
        sys.executable,
        "-c",
        _CHILD,
        "report",
        "build",
        str(record_dir),
        "-o",
        str(output),
    ]
    peak = output.with_suffix(".peak")
    env["BENCH_PEAK_FILE"] = str(peak)
    start = time.perf_counter()
    # Run outside the checkout: `python -c` puts the working directory first on sys.path, which
    # would shadow PYTHONPATH's (the baseline's) perftoolkit with this one.
    process = subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, check=False, cwd=output.parent
    )
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"report build of {record_dir} failed (exit {process.returncode})")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(int(peak.read_text()) / 1024, 1)}


# Keys this version adds to report.json: the older build cannot write them.
NEW_KEYS = ("skipped_lines",)


def same_report(new: Path, old: Path) -> bool:
    """Byte-equal once the keys only the newer version writes are left out (of both: a newer
    baseline writes them too)."""
    texts = []
    for path in (new, old):
        data = json.loads(path.read_text())
        for key in NEW_KEYS:
            data.pop(key, None)
        texts.append(json.dumps(data, indent=2, sort_keys=True))
    return texts[0] == texts[1]


def revision(checkout: Path) -> str:
    """The baseline checkout's commit, or its path when it is not a git checkout."""
    found = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"at {found.stdout.strip()}" if found.returncode == 0 else str(checkout)


def machine() -> dict[str, Any]:
    import django

    import perftoolkit

    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "perftoolkit": perftoolkit.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
    }


def size_of(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.glob("*.jsonl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/perftoolkit-bench-report-build"))
    parser.add_argument(
        "--baseline", help="Source root of another perftoolkit to build the same directories with"
    )
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=100_000,
        help="Largest directory the baseline builds (it may hold every request in memory)",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the synthetic directories")
    parser.add_argument("--no-write", action="store_true", help="Print only")
    parser.add_argument("--record-base", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.record_base:
        record_base(args.record_base)
        return 0
    base = base_lines(args.work)
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        directory = args.work / f"rec-{size}"
        if not directory.exists():
            synthesize(base, size, directory)
        row: dict[str, Any] = {"requests": size, "megabytes": round(size_of(directory) / 1e6)}
        row["perftoolkit"] = build(directory, args.work / f"report-{size}.json", None)
        if args.baseline and size <= args.baseline_max:
            row["baseline"] = build(directory, args.work / f"baseline-{size}.json", args.baseline)
            row["same_report"] = same_report(
                args.work / f"report-{size}.json", args.work / f"baseline-{size}.json"
            )
        print(json.dumps(row), flush=True)
        rows.append(row)
        if not args.keep:
            shutil.rmtree(directory)
    result = {"machine": machine(), "base_lines": len(base), "rows": rows}
    if args.baseline:
        result["baseline"] = revision(Path(args.baseline))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "report_build.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "report_build.md").write_text(markdown(result))
    print(markdown(result))
    return 0


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# `perftoolkit report build`",
        "",
        f"Python {m['python']}, Django {m['django']}, perftoolkit {m['perftoolkit']}, "
        f"{m['system']} {m['machine']}, {m['cpus']} CPUs; synthetic record directories made "
        f"from {result['base_lines']} recorded lines of the sample project's `before` variant.",
        "",
        "The baseline is the build of another checkout (`--baseline`"
        + (f" {result['baseline']}" if result.get("baseline") else "")
        + '), on the same directories; "same report.json" compares the two reports with the '
        f"keys only the newer one writes ({', '.join(NEW_KEYS)}) left out.",
        "",
        "| requests | size | seconds | peak RSS | baseline seconds | baseline peak RSS | same report.json |",
        "|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for row in result["rows"]:
        new, old = row["perftoolkit"], row.get("baseline")
        lines.append(
            f"| {row['requests']:,} | {row['megabytes']:,} MB | {new['seconds']:,} | "
            f"{new['peak_rss_mb']:,} MB | "
            + (f"{old['seconds']:,} | {old['peak_rss_mb']:,} MB | " if old else "– | – | ")
            + ({True: "yes", False: "NO"}.get(row.get("same_report"), "–") + " |")  # type: ignore[arg-type]
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
