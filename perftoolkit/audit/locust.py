"""Locust, always in its own processes: `python -m locust` headless, alone or as one master and N
workers (Locust's distributed mode), its results read back from the files it writes.

Locust monkey-patches the interpreter with gevent when imported, so nothing here imports it. It
also reads `./locust.conf`, `./pyproject.toml` and `~/.locust.conf`: it runs in the audit's own
empty artifacts directory with an explicit `--config` file, and LOCUST_* variables are removed
from its environment, so stray configuration cannot change a run.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from perftoolkit.audit.processes import Child, free_port, spawn, tail
from perftoolkit.core.runs.loadstats import (
    LoadProgress,
    LoadStats,
    load_stats_from_csv,
    load_stats_from_locust,
    parse_locust_csv,
    parse_locust_json,
    parse_progress_line,
)
from perftoolkit.core.runs.taskerrors import LoadException, parse_locust_exceptions
from perftoolkit.exceptions import ConfigurationError, LoadTestError

logger = logging.getLogger("perftoolkit")

PROFILE_DIR = "loadtests"
RESULTS_PREFIX = "locust"  # locust.json (Locust appends .json), locust_stats.csv, …


@dataclass(frozen=True, slots=True)
class LocustOptions:
    locustfiles: tuple[Path, ...]
    users: int = 10
    spawn_rate: float = 5.0
    run_time_s: int = 30
    workers: int = 0  # 0: one local process; N: Locust's master + N worker processes
    stop_timeout_s: int = 5  # how long users may finish their current task at the end
    # (host, port) the master listens on for workers started on other machines (no local ones)
    master_bind: tuple[str, int] | None = None
    worker_wait_s: int = 300  # with master_bind: how long the master waits for its workers


def parse_duration(text: str) -> int:
    """`30`, `45s`, `2m`, `1m30s`, `1h` → seconds (Locust's own --run-time syntax)."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        match = re.fullmatch(r"(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?", value)
        if match is None or not any(match.groups()):
            raise ConfigurationError(
                f"--run-time {text!r} is not a duration; write seconds (30, 45s), minutes (2m) "
                "or both (1m30s)."
            )
        h, m, s = (int(g or 0) for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    if seconds <= 0:
        raise ConfigurationError(f"--run-time {text!r} must be at least one second.")
    return seconds


def profile_dirs(cwd: Path, project_root: Path | None) -> list[Path]:
    """Where profile names are looked up: loadtests/ of the working directory, then of the project."""
    dirs = [cwd / PROFILE_DIR]
    if project_root is not None:
        dirs += [project_root / PROFILE_DIR, project_root.parent / PROFILE_DIR]
    unique: list[Path] = []
    for d in dirs:
        resolved = d.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def available_profiles(dirs: Sequence[Path]) -> list[str]:
    names = {
        p.stem for d in dirs if d.is_dir() for p in d.glob("*.py") if not p.name.startswith("_")
    }
    return sorted(names)


def find_locustfile(profile: str, dirs: Sequence[Path]) -> Path:
    """A `--profile` value → a locustfile: a path as given, or NAME → <dir>/NAME.py."""
    candidate = Path(profile).expanduser()
    if candidate.suffix == ".py" or os.sep in profile or "/" in profile:
        if candidate.is_file():
            return candidate.resolve()
        raise ConfigurationError(f"--profile {profile}: {candidate.resolve()} does not exist.")
    for directory in dirs:
        path = directory / f"{profile}.py"
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in dirs)
    names = available_profiles(dirs)
    offer = f"Profiles available: {', '.join(names)}." if names else "No profiles exist there."
    raise ConfigurationError(
        f"--profile {profile}: no locustfile {profile}.py in {searched}. {offer} "
        "Give a profile name from that list or the path of a locustfile."
    )


def check_locustfile(path: Path) -> None:
    """A profile that does not parse fails here, at its file and line, before any server starts
    (Locust would fail later with a traceback in its log). Sibling modules it imports by name
    (`from _sample import SampleUser`) are checked too."""
    for file in [path, *_sibling_imports(path)]:
        try:
            source = file.read_text(encoding="utf-8")
            compile(source, str(file), "exec")
        except SyntaxError as exc:
            code = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
            raise ConfigurationError(
                f"{file}:{exc.lineno}: {exc.msg}{code}. The Locust profile does not parse; fix "
                "that line and run the audit again."
            ) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigurationError(
                f"{file}: the Locust profile cannot be read ({exc})."
            ) from None


def _sibling_imports(path: Path) -> list[Path]:
    """Modules beside `path` that it imports (`import _sample`, `from _sample import X`)."""

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []  # reported for the profile itself
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    found = [path.parent / f"{name}.py" for name in sorted(names)]
    return [f for f in found if f.is_file() and f != path]


_FRAME_FILE = re.compile(r'^File "([^"]+)"')


def relative_frame(frame: str, base: Path) -> str:
    """A traceback frame with its file relative to `base` (its name alone when outside it): a
    report holds no absolute path."""
    match = _FRAME_FILE.match(frame)
    if match is None or not os.path.isabs(match[1]):
        return frame
    path = Path(match[1])
    try:
        shown = path.relative_to(base).as_posix()
    except ValueError:
        shown = path.name
    return f'File "{shown}"{frame[match.end() :]}'


def locust_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith("LOCUST_")
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def write_config(path: Path, options: LocustOptions, host: str) -> Path:
    """The explicit --config file: it outranks ~/.locust.conf for every key it sets."""
    lines = [
        "# Written by perftoolkit for this run; command-line options override it.",
        "headless = true",
        f"host = {host}",
        f"users = {options.users}",
        f"spawn-rate = {options.spawn_rate:g}",
        f"run-time = {options.run_time_s}s",
        f"stop-timeout = {options.stop_timeout_s}",
        "exit-code-on-error = 0",
        "reset-stats = false",
        "loglevel = INFO",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def locust_argv(
    options: LocustOptions,
    host: str,
    workdir: Path,
    *,
    role: str = "local",  # local | master | worker
    master_port: int | None = None,
) -> list[str]:
    files = ",".join(str(p) for p in options.locustfiles)
    base = [sys.executable, "-m", "locust", "-f", files, "--config", str(workdir / "locust.conf")]
    if role == "worker":
        assert master_port is not None
        return [
            *base,
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(master_port),
            "--host",
            host,
        ]
    argv = [
        *base,
        "--headless",
        "--host",
        host,
        "--users",
        str(options.users),
        "--spawn-rate",
        f"{options.spawn_rate:g}",
        "--run-time",
        f"{options.run_time_s}s",
        "--stop-timeout",
        str(options.stop_timeout_s),
        "--exit-code-on-error",
        "0",
        "--json-file",
        str(workdir / RESULTS_PREFIX),
        "--csv",
        str(workdir / RESULTS_PREFIX),
        "--csv-full-history",
    ]
    if role == "master":
        assert master_port is not None
        bind_host, wait = "127.0.0.1", 30
        if options.master_bind is not None:
            bind_host, wait = options.master_bind[0], options.worker_wait_s
        argv += [
            "--master",
            "--master-bind-host",
            bind_host,
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(max(options.workers, 1)),
            "--expect-workers-max-wait",
            str(wait),
        ]
    return argv


def require_locust() -> None:
    """Raise the audit's error when Locust cannot be run (checked before any work is done)."""
    if importlib.util.find_spec("locust") is None:
        raise LoadTestError(
            "Locust is not installed, and the audit drives the server with it. "
            "Install the audit extra: pip install 'perftoolkit[audit]'."
        )


class LocustRun:
    """One Locust run against `host`: started, watched, stopped, read."""

    def __init__(self, options: LocustOptions, host: str, workdir: Path) -> None:
        self.options = options
        self.host = host
        self.workdir = workdir
        self.master: Child | None = None
        self.workers: list[Child] = []
        self.started_at = 0.0
        self.finished_at = 0.0

    @property
    def log_path(self) -> Path:
        return self.workdir / "locust.log"

    def start(self) -> None:
        require_locust()
        self.workdir.mkdir(parents=True, exist_ok=True)
        write_config(self.workdir / "locust.conf", self.options, self.host)
        env = locust_environment()
        self.started_at = time.time()
        if self.options.master_bind is not None:
            # Workers come from other machines (`worker_command`): only the master runs here.
            self.master = spawn(
                "Locust master",
                locust_argv(
                    self.options,
                    self.host,
                    self.workdir,
                    role="master",
                    master_port=self.options.master_bind[1],
                ),
                env=env,
                cwd=self.workdir,
                log_path=self.log_path,
            )
            return
        if self.options.workers <= 0:
            self.master = spawn(
                "Locust",
                locust_argv(self.options, self.host, self.workdir),
                env=env,
                cwd=self.workdir,
                log_path=self.log_path,
            )
            return
        port = free_port()
        self.master = spawn(
            "Locust master",
            locust_argv(self.options, self.host, self.workdir, role="master", master_port=port),
            env=env,
            cwd=self.workdir,
            log_path=self.log_path,
        )
        for n in range(1, self.options.workers + 1):
            self.workers.append(
                spawn(
                    f"Locust worker {n}",
                    locust_argv(
                        self.options, self.host, self.workdir, role="worker", master_port=port
                    ),
                    env=env,
                    cwd=self.workdir,
                    log_path=self.workdir / f"locust-worker-{n}.log",
                )
            )

    @property
    def running(self) -> bool:
        return self.master is not None and self.master.running

    @property
    def exit_code(self) -> int | None:
        return self.master.poll() if self.master is not None else None

    @property
    def deadline_s(self) -> float:
        """How long the run may take before it is considered hung (spawning, the run, the stop)."""
        spawn_s = self.options.users / max(self.options.spawn_rate, 0.1)
        waited = self.options.worker_wait_s if self.options.master_bind is not None else 0
        return self.options.run_time_s + spawn_s + self.options.stop_timeout_s + 60.0 + waited

    def progress(self) -> LoadProgress | None:
        """The latest totals Locust printed (every two seconds while it runs)."""
        for line in reversed(tail(self.log_path, 40).splitlines()):
            found = parse_progress_line(line)
            if found is not None:
                return found
        return None

    def stop(self) -> None:
        """End the run: SIGTERM lets Locust write its stats; then no process of it is left."""
        if self.master is not None and self.master.running:
            self.master.signal(signal.SIGTERM)
            self.master.wait(self.options.stop_timeout_s + 15.0)
        for child in [*self.workers, *([self.master] if self.master else [])]:
            child.stop(timeout=5.0)
        if not self.finished_at:
            self.finished_at = time.time()

    def wait(self, timeout_s: float) -> int | None:
        if self.master is None:
            return None
        code = self.master.wait(timeout_s)
        if code is not None and not self.finished_at:
            self.finished_at = time.time()
        return code

    def failure(self) -> str:
        """What went wrong, for a message: Locust's exit code and the end of its log."""
        code = self.exit_code
        text = tail(self.log_path, 20)
        for worker in self.workers:
            if worker.poll() not in (None, 0):
                text += f"\n[{worker.name}, exit {worker.poll()}]\n{worker.tail(10)}"
        return f"Locust exited with code {code}. The end of its log ({self.log_path.name}):\n{text}"

    def stats(self, route_for: Callable[[str], str]) -> LoadStats | None:
        """Locust's results (its JSON, exact histograms, or failing that its last stats CSV),
        with the exceptions its tasks raised."""
        stats = self._stats(route_for)
        if stats is None:
            return None
        return replace(stats, exceptions=tuple(self.exceptions()))

    def exceptions(self) -> list[LoadException]:
        """What Locust's tasks raised (`locust_exceptions.csv`); none when it wrote no such file."""
        path = self.workdir / f"{RESULTS_PREFIX}_exceptions.csv"
        try:
            found = parse_locust_exceptions(path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            return [LoadException(1, f"{path.name} is unreadable ({exc})", "")]
        return [replace(e, traceback=relative_frame(e.traceback, Path.cwd())) for e in found]

    def _stats(self, route_for: Callable[[str], str]) -> LoadStats | None:
        profiles = [p.stem for p in self.options.locustfiles]
        run_time = (self.finished_at or time.time()) - self.started_at if self.started_at else 0.0
        o = self.options
        json_path = self.workdir / f"{RESULTS_PREFIX}.json"
        if json_path.is_file():
            try:
                entries = parse_locust_json(json.loads(json_path.read_text()))
            except ValueError as exc:
                raise LoadTestError(
                    f"{json_path} is not Locust's JSON stats ({exc}); the run's numbers cannot be read."
                ) from None
            return load_stats_from_locust(
                entries,
                route_for=route_for,
                users=o.users,
                spawn_rate=o.spawn_rate,
                run_time_s=run_time,
                workers=o.workers,
                profiles=profiles,
            )
        csv_path = self.workdir / f"{RESULTS_PREFIX}_stats.csv"
        try:
            rows = parse_locust_csv(csv_path.read_text()) if csv_path.is_file() else []
        except ValueError as exc:
            logger.warning(
                "perftoolkit: %s is unreadable (%s); no latency from Locust", csv_path, exc
            )
            rows = []
        if not rows:
            return None
        return load_stats_from_csv(
            rows,
            route_for=route_for,
            users=o.users,
            spawn_rate=o.spawn_rate,
            run_time_s=run_time,
            workers=o.workers,
            profiles=profiles,
        )
