"""When the project does not start: the cause, read from the server's log, and no empty run
directory left behind.

gunicorn reports a worker that cannot load the application with the worker's traceback, then
its own `HaltServer: 'Worker failed to boot.'`, which says nothing about the cause: the first
exception that is not gunicorn's own is the one to show, at the innermost line of the project.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+)')
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?::|$)")  # `pkg.module.SomeError: message`
# Exceptions that report the failure, not its cause.
_NOT_THE_CAUSE = ("HaltServer", "SystemExit", "KeyboardInterrupt")
_LOG_LINE = re.compile(r"^\[[^\]]+\] \[\d+\] \[ERROR\] (?P<message>.+)$")
_GUNICORN_NOISE = ("Exception in worker process", "Worker (pid:", "Reason: ", "Shutting down")


@dataclass(frozen=True, slots=True)
class LoggedException:
    """An exception as a log shows it: the last line of its traceback and where it was raised."""

    text: str  # "ModuleNotFoundError: No module named 'shop.signals'"
    file: str | None = None
    line: int | None = None
    code: str | None = None  # the source line the traceback shows there

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f" (at {self.file}:{self.line}" + (f": {self.code}" if self.code else "") + ")"
        return self.text + where


def first_exception(log: str) -> LoggedException | None:
    """The first exception in a log that is not the server reporting its own halt; else gunicorn's
    own error line (`Failed to find attribute 'application' in 'mysite.wsgi'.`)."""
    lines = log.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("Traceback (most recent call last):"):
            found, index = _traceback(lines, index + 1)
            if found is not None and not any(n in found.text for n in _NOT_THE_CAUSE):
                return found
            continue
        index += 1
    for line in lines:
        match = _LOG_LINE.match(line)
        if match and not match["message"].startswith(_GUNICORN_NOISE):
            return LoggedException(match["message"].strip())
    return None


def _traceback(lines: list[str], index: int) -> tuple[LoggedException | None, int]:
    frames: list[tuple[str, int, str | None]] = []
    while index < len(lines):
        line = lines[index]
        frame = _FRAME.match(line)
        if frame:
            code = None
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith("    ") and not _FRAME.match(following):
                code = following.strip() or None
            frames.append((frame["file"], int(frame["line"]), code))
            index += 1
            continue
        if line.startswith((" ", "\t")) or not line.strip():
            index += 1
            continue
        break
    if index >= len(lines) or not _EXCEPTION.match(lines[index]):
        return None, index
    text = lines[index].strip()
    file, number, code = _innermost_project_frame(frames) or (None, None, None)
    return LoggedException(text, file, number, code), index + 1


def _innermost_project_frame(
    frames: list[tuple[str, int, str | None]],
) -> tuple[str, int, str | None] | None:
    """The innermost frame outside the interpreter and installed packages, else the innermost."""
    for file, line, code in reversed(frames):
        if not (file.startswith("<") or "site-packages" in file or "/lib/python3" in file):
            return file, line, code
    return frames[-1] if frames else None


def explain_failure(error: str, log_path: Path) -> str:
    """The server's failure with its cause: the message's first sentence (which process, which
    exit code) and the first exception in its log, instead of the log's tail."""
    summary = error.split(" The end of its log", 1)[0].strip()
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return error
    cause = first_exception(text)
    told = f" The first exception in its log: {cause}." if cause is not None else ""
    return f"{summary}{told}"


def discard_empty_run(run_dir: Path, artifacts: Path, *, created: bool, message: str) -> str:
    """A run that collected nothing leaves no run directory behind: its logs move to a temporary
    directory (named in the returned message instead of their old place), and the run directory
    goes when this run created it."""
    if not artifacts.is_dir():
        return message
    logs = sorted(artifacts.glob("*.log"))
    kept = Path(tempfile.mkdtemp(prefix=f"perftoolkit-{run_dir.name}-"))
    for log in logs:
        moved = kept / log.name
        shutil.move(str(log), moved)
        message = message.replace(str(log), str(moved))
    shutil.rmtree(artifacts, ignore_errors=True)
    if created:
        shutil.rmtree(run_dir, ignore_errors=True)
    return message


def nothing_collected(error: str | None, run_dir: Path, artifacts: Path, *, created: bool) -> str:
    """Why a run has no report, with the server's first exception when it did not start; the
    run directory is not left behind empty."""
    server_log = artifacts / "server.log"
    message = "Nothing was collected, so no report was written."
    if error is not None and server_log.name in error and server_log.is_file():
        message = f"{explain_failure(error, server_log)} {message} Full log: {server_log}"
    elif error is not None:
        message = f"{error} {message}"
    return discard_empty_run(run_dir, artifacts, created=created, message=message)
