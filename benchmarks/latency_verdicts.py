"""Do latency verdicts hold on real audits? A/A pairs must show no regression; a real 2× slowdown
of one endpoint must be flagged.

    .venv/bin/python benchmarks/latency_verdicts.py            # 10 pairs of each: about 20 min
    .venv/bin/python benchmarks/latency_verdicts.py --pairs 2  # a quick look

Each pair starts from one audit `a` of the sample project's `after` variant (gunicorn + Locust,
the profiles and load of the acceptance check: smoke + mixed, 10 users, 30 s). Then:

- A/A: a second audit `b` of the same code, with `--compare a`: any regression is a false one;
- 2×: an audit of the same code with `SAMPLE_SLOW_VIEW=api/courses/` (every request to that route
  sleeps as long again as it took: exactly twice as slow), with `--compare a`: the route must be a
  latency regression, and no other endpoint may be one.

Writes benchmarks/results/latency_verdicts.{md,json}. Every audit runs in its own process, as
`manage.py perf_audit`, against a fresh SQLite database seeded once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_project"
HERE = Path(__file__).resolve().parent
SLOW_ROUTE = "api/courses/"
KEY = f"GET {SLOW_ROUTE}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--users", default="10")
    parser.add_argument("--run-time", default="30s")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="perftoolkit-verdicts-"))
    env = {**os.environ, "SAMPLE_VARIANT": "after", "DATABASE_URL": f"sqlite:///{work}/sample.db"}
    env.pop("SAMPLE_SLOW_VIEW", None)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "seed_sample", "--size", "small", "--reset")
    started = time.monotonic()
    pairs = []
    try:
        for n in range(1, args.pairs + 1):
            base = audit(env, work, f"p{n}-a", args)
            same = audit(env, work, f"p{n}-b", args, compare=f"p{n}-a")
            slow = audit(
                {**env, "SAMPLE_SLOW_VIEW": SLOW_ROUTE}, work, f"p{n}-slow", args, compare=f"p{n}-a"
            )
            pairs.append({"pair": n, "base": base, "aa": same, "slow": slow})
            report(pairs[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(pairs, args, time.monotonic() - started)
    return 0


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=SAMPLE, env=env, check=True)


def audit(
    env: dict[str, str], work: Path, label: str, args: argparse.Namespace, compare: str = ""
) -> dict[str, Any]:
    """One `perf_audit`; with `compare`, the comparison it wrote, summarised."""
    argv = [
        sys.executable, "manage.py", "perf_audit", "--profile", "smoke", "--profile", "mixed",
        "--users", args.users, "--spawn-rate", "5", "--run-time", args.run_time, "--force",
        "--quiet", "--label", label, "--out-dir", str(work),
    ]  # fmt: skip
    if compare:
        argv += ["--compare", compare]
        (work / "compare" / "compare.json").unlink(missing_ok=True)
    result = subprocess.run(argv, cwd=SAMPLE, env=env, capture_output=True, text=True, check=False)
    run = json.loads((work / label / "report.json").read_text())
    outcome: dict[str, Any] = {
        "label": label,
        "exit": result.returncode,
        "complete": run["complete"],
        "incomplete_reason": run.get("incomplete_reason"),
        "requests": run["load"]["total"]["requests"] if run.get("load") else None,
    }
    if compare:
        data = json.loads((work / "compare" / "compare.json").read_text())
        judged = [e for e in data["endpoints"] if e["latency"]["status"] != "not_judged"]
        slow = next((e for e in data["endpoints"] if f"GET {e['route']}" == KEY), None)
        outcome |= {
            "regressions": {
                f"{r['method']} {r['route']}": r["reasons"] for r in data["regressions"]
            },
            "judged": len(judged),
            "endpoints": len(data["endpoints"]),
            "drift": data["drift"]["factor"] if data["drift"] else None,
            "slow_route": slow["latency"] if slow else None,
        }
    return outcome


def report(pair: dict[str, Any]) -> None:
    aa, slow = pair["aa"], pair["slow"]
    flagged = KEY in slow["regressions"]
    others = sorted(set(slow["regressions"]) - {KEY})
    sys.stdout.write(
        f"pair {pair['pair']}: A/A regressions {len(aa['regressions'])} "
        f"({aa['judged']}/{aa['endpoints']} judged, drift {aa['drift']}); "
        f"2x {'flagged' if flagged else 'MISSED'} "
        f"(median {slow['slow_route']['median_ms']}), other regressions {others}\n"
    )
    sys.stdout.flush()


def write_results(pairs: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> None:
    aa_clean = sum(1 for p in pairs if not p["aa"]["regressions"])
    flagged = sum(1 for p in pairs if KEY in p["slow"]["regressions"])
    slow_clean = sum(1 for p in pairs if set(p["slow"]["regressions"]) <= {KEY})
    lines = [
        "# Latency verdicts on real audits",
        "",
        f"`benchmarks/latency_verdicts.py --pairs {args.pairs}` on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores, shared), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}, {seconds / 60:.0f} min. Each audit: sample `after`, "
        f"smoke + mixed, {args.users} users, spawn rate 5, {args.run_time}; comparisons at the "
        "defaults (tolerance 0.1, confidence 0.99).",
        "",
        f"- A/A: **{aa_clean} of {len(pairs)}** pairs with 0 regressions.",
        f"- 2× slowdown of `{KEY}`: flagged in **{flagged} of {len(pairs)}** pairs; "
        f"no other endpoint called a regression in {slow_clean} of {len(pairs)}.",
        "",
        "| pair | A/A regressions | A/A judged | A/A drift | 2× flagged | 2× median ms | 2× p | 2× drift | other regressions |",
        "|---:|---:|---:|---:|---|---|---:|---:|---|",
    ]
    for p in pairs:
        aa, slow = p["aa"], p["slow"]
        verdict = slow["slow_route"] or {}
        medians = verdict.get("median_ms") or {}
        lines.append(
            f"| {p['pair']} | {len(aa['regressions'])} | {aa['judged']}/{aa['endpoints']} "
            f"| {aa['drift'] or '–'} | {'yes' if KEY in slow['regressions'] else 'no'} "
            f"| {medians.get('before')} → {medians.get('after')} | {verdict.get('p_value')} "
            f"| {slow['drift'] or '–'} | {', '.join(sorted(set(slow['regressions']) - {KEY})) or '–'} |"
        )
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latency_verdicts.md").write_text("\n".join(lines) + "\n")
    (args.results / "latency_verdicts.json").write_text(
        json.dumps({"pairs": pairs, "seconds": round(seconds)}, indent=2, sort_keys=True) + "\n"
    )
    sys.stdout.write("\n".join(lines[4:7]) + "\n")


if __name__ == "__main__":
    sys.exit(main())
