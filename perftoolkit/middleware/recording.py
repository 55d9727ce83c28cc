"""Record directories → AuditRun: the one implementation behind `perftoolkit report build` and
`manage.py perf_report build` (and the audit, which adds a server and Locust around it).

A record directory holds `<pid>.jsonl` files (one request per line, see the recording contract),
`samples/` (parameters for EXPLAIN; read only by the index adviser) and `environment.json`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.run import AuditRun, Detector, FindingFilter, build_run
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.middleware.ignoring import finding_filter

logger = logging.getLogger("perftoolkit")
# environment.json: what part of the capture could not work where the requests were recorded.
UNAVAILABLE_KEY = "capture_unavailable"


@dataclass
class Recording:
    """What a record directory held: the requests, plus what could not be read."""

    directory: Path
    profiles: list[RequestProfile] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def read_recording(directory: str | os.PathLike[str]) -> Recording:
    """Every request recorded in `directory`, in time order.

    A torn last line (a process killed mid-write) is skipped and noted; any other malformed line
    is an error naming the file and line, because it means the directory is not a recording.
    """
    path = Path(directory)
    if not path.exists():
        raise ReportFormatError(
            f"{path} does not exist. Record requests into it first: run your server or tests with "
            f"PERFTOOLKIT_RECORD_DIR={path} (and perftoolkit's middleware installed)."
        )
    if not path.is_dir():
        raise ReportFormatError(
            f"{path} is a file, not a record directory. Give the directory PERFTOOLKIT_RECORD_DIR pointed at."
        )
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise ReportFormatError(
            f"{path} holds no recordings (*.jsonl). Is perftoolkit.middleware.QueryBudgetMiddleware "
            f"in MIDDLEWARE, and did requests run with PERFTOOLKIT_RECORD_DIR={path}?"
        )
    recording = Recording(directory=path, environment=_environment(path))
    for file in files:
        recording.profiles.extend(_read_lines(file, recording))
    recording.profiles.sort(key=lambda p: p.started_at)
    return recording


def _read_lines(file: Path, recording: Recording) -> Iterator[RequestProfile]:
    lines = file.read_bytes().split(b"\n")
    last = len(lines) - 1
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            yield RequestProfile.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            torn = number - 1 == last  # no newline after it: the writer was interrupted
            if torn:
                recording.skipped.append(f"{file.name}:{number} (incomplete last line)")
                continue
            raise ReportFormatError(
                f"{file}:{number} is not a perftoolkit request record ({type(exc).__name__}: {exc}). "
                "Record directories hold only what the middleware writes; remove foreign files from it."
            ) from None


def _environment(path: Path) -> dict[str, str]:
    try:
        data: Any = json.loads((path / "environment.json").read_text())
    except FileNotFoundError:
        return {}  # written by the first recorded request; a report without one says less
    except (OSError, ValueError) as exc:
        logger.warning(
            "perftoolkit: %s is unreadable (%s); the report leaves its environment out",
            path / "environment.json",
            exc,
        )
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def build_report(
    directory: str | os.PathLike[str],
    *,
    label: str | None = None,
    detectors: Sequence[Detector] | None = None,
    options: DetectionOptions | None = None,
    load: LoadStats | None = None,
    complete: bool = True,
    notes: Sequence[str] = (),
    since: float | None = None,
    ignore: FindingFilter | None = None,
) -> AuditRun:
    """Aggregate a record directory (and optional load statistics) into an AuditRun.

    `since` (UNIX time) keeps only requests started then or later: a long-lived server's record
    directory also holds what it served before the run. `ignore` defaults to the project's ignore
    rules and inline comments (`middleware.ignoring.finding_filter`).
    """
    recording = read_recording(directory)
    profiles = recording.profiles
    if since is not None:
        profiles = [p for p in profiles if p.started_at >= since]
    started = min((p.started_at for p in profiles), default=time.time())
    finished = max((p.started_at + p.duration_ms / 1000 for p in profiles), default=started)
    extra = [f"skipped {s}" for s in recording.skipped]
    unavailable = recording.environment.get(UNAVAILABLE_KEY)
    if unavailable:
        extra.append(
            f"Part of the capture was unavailable where these requests were recorded ({unavailable}): "
            "findings may lack the relation and the exact fix they would otherwise name."
        )
    return build_run(
        profiles,
        label=label or Path(directory).resolve().name,
        started_at=started,
        finished_at=finished,
        environment=recording.environment,
        detectors=detectors if detectors is not None else load_detectors(),
        options=options or DetectionOptions(),
        load=load,
        complete=complete,
        notes=[*notes, *extra],
        record_dir=os.fspath(Path(directory).resolve()),
        ignore=ignore if ignore is not None else finding_filter(),
    )
