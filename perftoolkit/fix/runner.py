"""The parent's side of a replay: which requests to replay, one child process per attempt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perftoolkit.core.events import RequestProfile
from perftoolkit.core.fix.responses import ResponseKey

REPLAYED_METHODS = ("GET", "HEAD", "OPTIONS")
REQUESTS_PER_ENDPOINT = 5
Endpoint = tuple[str, str]  # (method, route)


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    endpoint: Endpoint
    method: str
    path: str
    query: str = ""
    user: int | str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "path": self.path, "query": self.query, "user": self.user}

    def __str__(self) -> str:
        who = f" as user {self.user}" if self.user is not None else ""
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''}{who}"


@dataclass(frozen=True, slots=True)
class ReplayResult:
    queries: int | None
    key: ResponseKey | None
    stable: bool
    error: str = ""
    # queries run by each project line ("file:line"), to tell whether a finding's own line ran fewer
    sites: dict[str, int] = field(default_factory=dict)
    first: ResponseKey | None = None  # the first run's response, when it differs from `key`'s


class ReplayFailed(Exception):
    """The child could not run the project (an edit that does not import, a settings error)."""


def recorded_requests(profiles: Iterable[RequestProfile]) -> dict[Endpoint, list[ReplayRequest]]:
    """The distinct replayable requests of each endpoint, the first few of each."""
    out: dict[Endpoint, list[ReplayRequest]] = {}
    for profile in profiles:
        if not profile.path or profile.method not in REPLAYED_METHODS:
            continue
        request = ReplayRequest(
            profile.endpoint, profile.method, profile.path, profile.query_string, profile.user
        )
        known = out.setdefault(profile.endpoint, [])
        if request not in known and len(known) < REQUESTS_PER_ENDPOINT:
            known.append(request)
    return out


def replay(
    requests: Sequence[ReplayRequest],
    overlay: Mapping[Path, str],
    *,
    project_dir: Path,
    settings_module: str,
    bodies: Path | None = None,
    clock: float | None = None,
    timeout_s: float = 600.0,
) -> list[ReplayResult]:
    """Replay `requests` against the project with `overlay` (file → edited text) in place; with
    `bodies` (a directory), each normalised response body is kept there under its digest; with
    `clock` (UNIX time), the project's clock stands still at that instant (time-machine, when
    installed): pages that say how long ago something happened read the same in every run."""
    if not requests:
        return []
    with tempfile.TemporaryDirectory(prefix="perftoolkit-fix-") as scratch:
        job = Path(scratch) / "job.json"
        out = Path(scratch) / "out.json"
        job.write_text(
            json.dumps(
                {
                    "project_dir": os.fspath(project_dir),
                    "overlay": {os.fspath(p): text for p, text in overlay.items()},
                    "requests": [r.to_dict() for r in requests],
                    "bodies": os.fspath(bodies) if bodies is not None else None,
                    "clock": clock,
                }
            )
        )
        env = {k: v for k, v in os.environ.items() if k != "PERFTOOLKIT_RECORD_DIR"}
        env["DJANGO_SETTINGS_MODULE"] = settings_module
        # One hash seed for every replay: a page that lists a set (the stylesheets a template
        # collected) lists it in the same order in each process, before and after an edit.
        env["PYTHONHASHSEED"] = "0"
        paths = [os.fspath(project_dir), *(p for p in sys.path if p and os.path.isdir(p))]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        try:
            done = subprocess.run(
                [sys.executable, "-m", "perftoolkit.fix.replay", os.fspath(job), os.fspath(out)],
                cwd=project_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ReplayFailed(f"the replay took more than {timeout_s:.0f} s") from None
        if not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ReplayFailed(f"the replay process failed: {' / '.join(tail) or done.returncode}")
        data = json.loads(out.read_text())
    if "error" in data:
        raise ReplayFailed(str(data["error"]))
    return [
        ReplayResult(
            queries=r["queries"],
            key=ResponseKey.from_dict(r["key"]) if r["key"] else None,
            stable=bool(r["stable"]),
            error=str(r["error"] or ""),
            sites={str(k): int(v) for k, v in (r.get("sites") or {}).items()},
            first=ResponseKey.from_dict(r["first"]) if r.get("first") else None,
        )
        for r in data["results"]
    ]
