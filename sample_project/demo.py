"""`make demo`: seed both variants, audit `before` and `after` under gunicorn + Locust, compare.

Writes reports/before/, reports/after/ and reports/compare/ under the working directory, then
prints where the HTML report is and a ten-line summary. SQLite files by default (one per
variant); with DATABASE_URL set, that database with `_before` / `_after` appended (created on
PostgreSQL when missing). Each audit runs in its own process: the variant is read once, when
the settings load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANAGE = HERE / "manage.py"
PROFILES = ("smoke", "mixed")
AUDIT = ["--users", "10", "--spawn-rate", "5", "--run-time", "30s", "--force"]


def main() -> int:
    started = time.monotonic()
    out_dir = Path.cwd() / "reports"
    for variant in ("before", "after"):
        env = variant_environment(variant)
        step(f"seeding the {variant} variant ({describe_database(env)})")
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "seed_sample", "--size", "small", "--reset")
    for variant in ("before", "after"):
        step(f"auditing {variant}: profiles {' + '.join(PROFILES)}, real gunicorn + Locust")
        args = ["perf_audit", *sum((["--profile", p] for p in PROFILES), [])]
        args += [*AUDIT, "--label", variant, "--out-dir", str(out_dir)]
        if variant == "after":
            args += ["--compare", "before"]
        manage(variant_environment(variant), *args)
    print_summary(out_dir, time.monotonic() - started)
    return 0


def variant_environment(variant: str) -> dict[str, str]:
    env = {**os.environ, "SAMPLE_VARIANT": variant}
    url = os.environ.get("DATABASE_URL")
    if url:
        sys.path.insert(0, str(HERE))
        from sample_project.database import variant_url

        env["DATABASE_URL"] = variant_url(url, variant)
        ensure_postgres_database(env["DATABASE_URL"])
    return env


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE for a postgres:// URL whose database does not exist yet."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        return
    import psycopg

    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def describe_database(env: dict[str, str]) -> str:
    return env.get("DATABASE_URL") or f"SQLite {HERE.name}/db-{env['SAMPLE_VARIANT']}.sqlite3"


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, str(MANAGE), *args], env=env, check=False)
    if result.returncode != 0:
        step(f"`manage.py {' '.join(args[:1])}` failed with exit code {result.returncode}")
        raise SystemExit(result.returncode)


def step(text: str) -> None:
    sys.stdout.write(f"\n==> {text}\n")
    sys.stdout.flush()


def print_summary(out_dir: Path, seconds: float) -> None:
    before = json.loads((out_dir / "before" / "report.json").read_text())
    after = json.loads((out_dir / "after" / "report.json").read_text())
    html = out_dir / "compare" / "index.html"
    if not html.exists():
        html = out_dir / "after" / "index.html"
    common = sorted(set(_endpoints(before)) & set(_endpoints(after)))
    qb = sum(_endpoints(before)[k]["queries"]["median"] or 0 for k in common)
    qa = sum(_endpoints(after)[k]["queries"]["median"] or 0 for k in common)
    worst = max(common, key=lambda k: _endpoints(before)[k]["queries"]["median"] or 0)
    wb, wa = (_endpoints(r)[worst]["queries"]["median"] for r in (before, after))
    lines = [
        f"perftoolkit demo: sample project before/after in {seconds:.0f} s",
        f"  report      {_relative(html)}",
        f"  endpoints   {len(common)} audited in both runs",
        f"  queries     {qb:g} -> {qa:g} (median per request, summed over the endpoints)",
        f"  worst       {worst}: {wb:g} -> {wa:g} queries",
        f"  p95         {_p95(before)} -> {_p95(after)} ms over all requests",
        f"  requests    {_requests(before)} -> {_requests(after)} in the same run time",
        f"  findings    {len(before['findings'])} -> {len(after['findings'])} ({_kinds(before)})",
        f"  cache hits  {_ratio(before)} -> {_ratio(after)}",
        f"  comparison  {_relative(out_dir / 'compare' / 'compare.json')}",
    ]
    sys.stdout.write("\n" + "\n".join(lines) + "\n")


def _endpoints(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{e['method']} {e['route']}": e for e in report["endpoints"]}


def _p95(report: dict[str, Any]) -> str:
    load = report.get("load") or {}
    value = (load.get("total") or {}).get("latency_ms", {}).get("p95")
    return "-" if value is None else f"{value:g}"


def _requests(report: dict[str, Any]) -> str:
    load = report.get("load") or {}
    return str((load.get("total") or {}).get("requests", "-"))


def _kinds(report: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for finding in report["findings"]:
        counts[finding["kind"]] = counts.get(finding["kind"], 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"


def _ratio(report: dict[str, Any]) -> str:
    ratio = (report.get("cache") or {}).get("ratio")
    return "-" if ratio is None else f"{ratio:.0%}"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
