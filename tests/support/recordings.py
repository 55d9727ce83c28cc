"""Real record lines of the corpus views, and record directories made from them, varied as
traffic varies (times, parameter hashes, shorter pages, several workers and servers)."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import transaction
from django.test import Client

from perftoolkit.conf import reset_settings
from perftoolkit.middleware.recorder import flush_recorders
from tests.corpus.data import seed
from tests.corpus.urls import _CASES

PATHS = [f"/corpus/{case}/" for case in _CASES] + ["/corpus/drf/nested/", "/mw/regex/3/"]


def written_lines(directory: Path) -> list[str]:
    """The lines of the record files in `directory` (`*.jsonl`, by name, each as written), once
    this process's recorders have written the lines they hold (RECORD_BUFFER): how a test reads
    what requests it made recorded, rather than reading the files at once."""
    flush_recorders()
    return [
        line for file in sorted(directory.glob("*.jsonl")) for line in file.read_text().splitlines()
    ]


def record_corpus(directory: Path, paths: Sequence[str] = PATHS, times: int = 2) -> list[str]:
    """Request each corpus view `times` times with recording on; the lines written, in order.

    The data is seeded in a transaction rolled back afterwards (callers need database access).
    """
    previous = os.environ.get("PERFTOOLKIT_RECORD_DIR")
    os.environ["PERFTOOLKIT_RECORD_DIR"] = str(directory)
    reset_settings()
    try:
        with transaction.atomic():
            seed()
            client = Client(raise_request_exception=False)
            for _ in range(times):
                for path in paths:
                    client.get(path)
            lines = [line for line in written_lines(directory) if line.strip()]
            transaction.set_rollback(True)
    finally:
        if previous is None:
            os.environ.pop("PERFTOOLKIT_RECORD_DIR", None)
        else:
            os.environ["PERFTOOLKIT_RECORD_DIR"] = previous
        reset_settings()
    return lines


def varied_line(base: dict[str, Any], rng: random.Random, *, odd: bool = False) -> dict[str, Any]:
    """`base` as another request of its endpoint: new times and parameter hashes, another user and
    query string, and now and then a shorter page (its last rows cut). `odd` also draws times that are not whole
    thousandths (binary fractions, so float sums stay exact)."""
    line = dict(base)
    rows = [list(row) for row in base["queries"]]
    if rows and rng.random() < 0.25:
        del rows[len(rows) - rng.randint(0, min(3, len(rows) - 1)) :]
    keys: dict[str, str] = {}
    for row in rows:
        row[1] = (
            rng.randint(0, 1024) / 1024
            if odd and rng.random() < 0.3
            else rng.randint(0, 5000) / 1000
        )
        if len(row) > 5 and row[5] is not None:
            row[5] = keys.setdefault(row[5], f"{rng.getrandbits(64):016x}")
    line.update(
        queries=rows,
        started_at=round(1_800_000_000 + rng.uniform(0, 3600), 6),
        duration_ms=rng.randint(0, 900_000) / 1000,
        status=rng.choice([200, 200, 200, 404, 500]),
        cache={"gets": (gets := rng.randint(0, 5)), "hits": rng.randint(0, gets)},
    )
    if rng.random() < 0.5:
        line["user"] = rng.randint(1, 1000)
    if rng.random() < 0.5:
        line["query"] = f"page={rng.randint(1, 1000)}"
    return line


def write_recordings(
    lines: Sequence[str],
    directories: Sequence[Path],
    *,
    requests: int,
    files: int = 3,
    seed_value: int = 0,
    odd: bool = False,
) -> None:
    """`requests` varied lines spread over `files` files in each of `directories`."""
    rng = random.Random(seed_value)
    bases = [json.loads(line) for line in lines]
    handles = []
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
        handles += [(directory / f"{1000 + i}.jsonl").open("w") for i in range(files)]
    try:
        for _ in range(requests):
            line = varied_line(rng.choice(bases), rng, odd=odd)
            rng.choice(handles).write(json.dumps(line, separators=(",", ":")) + "\n")
    finally:
        for handle in handles:
            handle.close()
