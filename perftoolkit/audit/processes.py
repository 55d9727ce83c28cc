"""Child processes of an audit (the server, Locust): each in its own process group, its output
in a log file, and always ended — the whole group, so no worker outlives the run.

Own process groups also keep a Ctrl-C in the terminal from reaching the children directly: the
audit decides the order they stop in (Locust first, so it writes its stats, then the server).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Child:
    """A started process and its log; `stop()` ends its whole process group."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path
        self.pgid = process.pid  # start_new_session: the child leads its own group

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: int) -> None:
        """Send `sig` to the child alone (not its group): Locust's master relays it itself."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM to the group, then SIGKILL to whatever is left after `timeout` seconds."""
        _kill_group(self.pgid, signal.SIGTERM)
        code = self.wait(timeout)
        deadline = time.monotonic() + (timeout if code is not None else 0.0)
        while group_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if code is None or group_alive(self.pgid):
            _kill_group(self.pgid, signal.SIGKILL)
            code = self.wait(5.0)
        return code

    def tail(self, lines: int = 20) -> str:
        """The last `lines` lines of the log (what to show when the process failed)."""
        return tail(self.log_path, lines)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
) -> Child:
    """Start `argv` in a new session, stdout and stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    return Child(name, process, log_path)


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies of our own children excepted)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = 20) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
