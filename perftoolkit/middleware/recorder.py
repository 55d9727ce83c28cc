"""The recording contract: one JSON line per request appended to `<dir>/<pid>.jsonl`.

The file is opened once per process (reopened after a fork) and each line is one `os.write` on an
O_APPEND descriptor, so gunicorn workers and threads never interleave. A line is written whole or
not at all: a short or failed write is cut back to the last complete line (and raised, so the
middleware logs it), and so is a torn tail left in a file this pid reopens. At most every half
second, before a line, one `stat` compares the file's inode with the descriptor's: a file or
directory removed or replaced while the server runs is reopened (the directory recreated) with a
warning; the lines of that half second went to the removed file. Besides the lines, the
first run of each statement shape leaves one sample parameter set in `<dir>/samples/` for the
index adviser's EXPLAIN: local files that enter a report only when asked (`--include-params`).

With `RECORD_BUFFER` (bytes; not set, 65536 for a WSGI request and 0 for an ASGI one; 0 writes
each line as its request ends) lines are held in memory and written together, one `os.write` of
whole lines, when that many bytes are held or the oldest held line is a second old (checked by a
background thread, and for a line already built as the next one arrives), at exit, before a fork,
and before a report is built in this process (`flush_recorders`). A request the middleware has nothing
else to do for is handed over (`defer`, at most _PENDING_MAX of them, of a few queries: whole, or
as the values its line is made of once its endpoint is known) and its line built when the held
lines are written: lines built one after another cost far less
than each built as its request ends, amid the rest of the request's work (`benchmarks/README.md`).
What is held when the process is killed is not on disk; a server gone idle has its lines on disk a
second after its last request.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import os
import platform
import stat
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from time import monotonic
from typing import Any

import django
from django.db import connections

import perftoolkit
from perftoolkit.conf import get_settings
from perftoolkit.core.runs.run import SAMPLE_RATE_KEY, SLOW_REQUEST_KEY
from perftoolkit.middleware.capture import compat
from perftoolkit.middleware.capture.capture import RawQuery
from perftoolkit.middleware.capture.failures import failed
from perftoolkit.middleware.recording import UNAVAILABLE_KEY
from perftoolkit.middleware.samples import prepare_directory, write_sample

try:  # the `fast` extra: encodes a line some 10 times faster than json (benchmarks/README.md)
    import orjson
except ImportError:  # pragma: no cover - the test suite installs it
    orjson = None  # type: ignore[assignment]

logger = logging.getLogger("perftoolkit")
# How often the file's path is compared with the open descriptor (a `stat` costs more than the
# line's own write).
_RECHECK_SECONDS = 0.5
# How long a held line waits at most for the next line to write it (RECORD_BUFFER).
_HOLD_SECONDS = 1.0
# Requests held at most before their lines are built (each holds its queries until then).
_PENDING_MAX = 64
_recorders: dict[str, Recorder] = {}
# Builds a held request's line and the raw queries to sample: (RequestProfile.to_dict(), raw), or
# the line already encoded (bytes, with its newline) when it has no statements.
LineBuilder = Callable[[Any, Any], tuple[dict[str, Any] | bytes, list[RawQuery]]]
_lock = threading.Lock()


def _forget_descriptors() -> None:
    # A forked worker (gunicorn) writes its own <pid>.jsonl: drop the parent's descriptors. The
    # parent's flushing thread is not in the child: the child starts its own when it holds lines.
    global _wake, _flusher, _idle
    _wake, _flusher, _idle = threading.Event(), None, False
    for recorder in _recorders.values():
        recorder.forget()


def _flush_one(recorder: Recorder) -> None:
    try:
        recorder.flush()
    except OSError as exc:
        logger.warning(
            "perftoolkit: held record lines for %s could not be written (%s)",
            recorder.directory,
            exc,
        )


def flush_recorders() -> None:
    """Write the lines every recorder of this process holds (RECORD_BUFFER); a failure is
    logged, and those lines are lost."""
    for recorder in list(_recorders.values()):
        _flush_one(recorder)


# The thread that writes held lines once they are _HOLD_SECONDS old when no request comes to write
# them (a server gone idle), started when a recorder first holds a line. While lines are held it
# wakes when the oldest is due; with none held it waits for `_wake`, which a recorder that starts
# holding sets only then (`_idle`): waking a thread as every batch of held requests begins cost
# the requests more than the batching saves.
_wake = threading.Event()
_flusher: threading.Thread | None = None
_idle = False


def _hold_started() -> None:
    """A recorder began holding lines: make sure they are written within _HOLD_SECONDS."""
    global _flusher
    if _flusher is None:
        with _lock:
            if _flusher is None:
                _flusher = threading.Thread(
                    target=_flush_when_due, name="perftoolkit-record-flush", daemon=True
                )
                _flusher.start()
    elif _idle:
        _wake.set()


def _flush_when_due() -> None:
    global _idle
    wake = _wake
    while True:
        timeout = _flush_due()
        if timeout is None:
            _idle = True
            # Scanned again once idle is visible: a hold that began before it was is not missed.
            timeout = _flush_due()
            if timeout is None:
                # Not forever: a request held in the instant its queue was being emptied by
                # another may not have woken it (`defer`); it is written on the next look.
                wake.wait(_HOLD_SECONDS)
                wake.clear()
            _idle = False
            continue
        wake.wait(timeout)
        wake.clear()


def _flush_due() -> float | None:
    """Write what each recorder has held for _HOLD_SECONDS; the seconds until the next held line
    is due, or None when none is held."""
    now = monotonic()
    due: float | None = None
    for recorder in list(_recorders.values()):
        since = recorder.held_since()
        if since is None:
            continue
        if now - since >= _HOLD_SECONDS:
            try:
                _flush_one(recorder)
            except Exception:  # the lines are lost, the thread goes on
                failed("record")
        elif due is None or since < due:
            due = since
    return None if due is None else max(0.01, due + _HOLD_SECONDS - now)


# Held lines are written before a fork (the child must not write them again: `forget` drops
# them there) and at exit.
os.register_at_fork(before=flush_recorders, after_in_child=_forget_descriptors)
atexit.register(flush_recorders)


def _append(fd: int, line: bytes | bytearray) -> None:
    """Write one whole line, or leave none: a short write is cut back, then raised."""
    written = 0
    try:
        written = os.write(fd, line)
    finally:
        if written != len(line):
            _cut_back(fd, written)
    if written != len(line):
        raise OSError(errno.ENOSPC, f"short write: {written} of {len(line)} bytes")


def _cut_back(fd: int, written: int) -> None:
    with suppress(OSError):  # a device (/dev/full) cannot be truncated, nor hold a torn line
        status = os.fstat(fd)
        if stat.S_ISREG(status.st_mode):
            os.ftruncate(fd, max(0, status.st_size - written))
            _cut_torn_tail(fd, os.fstat(fd).st_size)


def _cut_torn_tail(fd: int, size: int) -> None:
    """Cut the file back to its last complete line (after its last newline)."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    if end != size:
        os.ftruncate(fd, end)


def recorder_for(directory: str) -> Recorder:
    recorder = _recorders.get(directory)
    if recorder is not None:
        return recorder
    with _lock:
        recorder = _recorders.get(directory)
        if recorder is None:
            recorder = _recorders[directory] = Recorder(directory)
        return recorder


def encode_line(data: dict[str, Any]) -> bytes:
    """One JSON line. orjson when installed; json for what orjson refuses (a string that is not
    valid UTF-8, an integer beyond 64 bits): the same values either way once read back."""
    if orjson is not None:
        try:
            return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            pass
    return (json.dumps(data, separators=(",", ":")) + "\n").encode()


class Recorder:
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self._fd: int | None = None
        self._path: Path | None = None
        self._inode: tuple[int, int] = (0, 0)
        self._checked = 0.0
        self._lock = threading.Lock()
        # Held by `flush` from start to end: an exit's flush waits for the background thread's.
        self._flushing = threading.Lock()
        self._sampled: set[str] = set()
        self._held = bytearray()  # whole lines, with RECORD_BUFFER
        self._held_since = 0.0
        # Requests whose lines are built when they are written (`defer`), and the size of a
        # line as the last of them measured it, to tell when RECORD_BUFFER bytes are held.
        self._pending: deque[tuple[LineBuilder, Any, Any]] = deque()
        self._line_size = 512

    def forget(self) -> None:
        """In a forked child: the parent's descriptor is not ours to write to, nor its held lines
        (written before the fork)."""
        self._fd = None
        self._path = None
        self._sampled = set()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._held = bytearray()
        self._pending = deque()

    def held_since(self) -> float | None:
        """When the oldest line or request held was (`monotonic`), or None when none is."""
        return self._held_since if self._held or self._pending else None

    def _checked_descriptor(self, now: float) -> int:
        """The open descriptor; its path is checked when none is open or the last check is older
        than _RECHECK_SECONDS."""
        fd = self._fd
        if fd is None or now - self._checked >= _RECHECK_SECONDS:
            fd = self._descriptor()
        return fd

    def _descriptor(self) -> int:
        """The open descriptor, once its path has been checked (reopened when the file was moved,
        opened when none is)."""
        self._checked = monotonic()
        if self._fd is not None and self._path is not None and self._moved(self._path):
            logger.warning(
                "perftoolkit: %s was removed or replaced while recording; reopened", self._path
            )
            with suppress(OSError):
                os.close(self._fd)
            self._fd = None
            self._sampled = set()  # the samples went with the directory, or may have
        if self._fd is None:
            path = self.directory / f"{os.getpid()}.jsonl"
            prepare_directory(self.directory)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            status = os.fstat(fd)
            if stat.S_ISREG(status.st_mode):
                _cut_torn_tail(fd, status.st_size)  # a line an earlier process of this pid tore
            self._fd, self._path, self._inode = fd, path, (status.st_dev, status.st_ino)
            self._write_environment()
        return self._fd

    def _moved(self, path: Path) -> bool:
        try:
            status = os.stat(path)
        except FileNotFoundError:
            return True
        return (status.st_dev, status.st_ino) != self._inode

    def record(
        self, line_data: dict[str, Any], raw: list[RawQuery], hold: int | None = None
    ) -> None:
        """Append one request (RequestProfile.to_dict() form); sample new statement shapes. `hold`
        is RECORD_BUFFER as it applies to the request (the setting, when not given)."""
        line = encode_line(line_data)
        if hold is None:
            hold = get_settings().held_bytes
        started = False
        with self._lock:
            now = monotonic()
            fd = self._checked_descriptor(now)
            if hold:
                held = self._held
                if not held and not self._pending:
                    self._held_since, started = now, True
                held += line
                if len(held) >= hold or now - self._held_since >= _HOLD_SECONDS:
                    self._write_held(fd)
            else:
                _append(fd, line)
            self._sample(line_data, raw)
        if started:
            _hold_started()

    def defer(self, build: LineBuilder, capture: Any, info: Any, hold: int) -> None:
        """Hold a request whose line `build(capture, info)` makes (RECORD_BUFFER): its line is
        built with the others held, when they are written. Lines built one after another cost
        less than each built as its request ends, amid the request's own work: the same
        instructions, run while their code and data are in the CPU's caches
        (`benchmarks/README.md`). `hold` is RECORD_BUFFER.

        No lock and no clock on a request's way: `deque.append` and `popleft` are atomic, so a
        request held while others are taken for writing is either taken with them or left for
        the next write. The request that finds nothing held before it notes when holding began,
        and the background thread writes the held requests once that is _HOLD_SECONDS ago."""
        if self._fd is None:  # the first request opens the file (and the directory), or fails
            with self._lock:
                self._checked_descriptor(monotonic())
        pending = self._pending
        pending.append((build, capture, info))
        count = len(pending)
        if count >= _PENDING_MAX or len(self._held) + count * self._line_size >= hold:
            self._write_pending(self._taken())
        elif count == 1:
            self._begin_holding()

    def _begin_holding(self) -> None:
        """The first request held since the last write: note when, and make sure the background
        thread will write it."""
        with self._lock:
            started = not self._held
            if started:
                self._held_since = monotonic()
        if started:
            _hold_started()

    def _taken(self) -> list[tuple[LineBuilder, Any, Any]]:
        """The requests held now, taken out of the queue one by one (never by swapping it for
        another: a request that read the queue before the swap would append to one no one
        reads)."""
        pending, taken = self._pending, []
        with suppress(IndexError):
            while True:
                taken.append(pending.popleft())
        return taken

    def _write_pending(self, pending: list[tuple[LineBuilder, Any, Any]]) -> None:
        """Build the lines of requests held by `defer`, outside the lock (other requests go on
        holding theirs), then write them with the lines held so far."""
        encoded: list[bytes] = []
        built = []
        # Every line built, then every line encoded: the encoder's code and tables stay in the
        # CPU's caches from one line to the next (built and encoded in turn, they were not).
        made = [(build(capture, info), capture) for build, capture, info in pending]
        for (line_data, raw), capture in made:  # a builder never raises: a failure is a line
            if isinstance(line_data, bytes):  # encoded by its builder, nothing to sample
                encoded.append(line_data)
                continue
            try:
                encoded.append(encode_line(line_data))
            except Exception:  # a value neither encoder takes: that request's line is lost
                failed("record", (capture,))
                continue
            if raw:  # statements to sample
                built.append((line_data, raw))
        lines = b"".join(encoded)  # each line copied once
        if pending:
            self._line_size = max(1, len(lines) // len(pending))
        with self._lock:
            fd = self._checked_descriptor(monotonic())
            if self._held:
                self._held += lines
                self._write_held(fd)
            elif lines:
                _append(fd, lines)  # not copied again into the held bytes, and out
            for line_data, raw in built:
                self._sample(line_data, raw)

    def _sample(self, line_data: dict[str, Any], raw: list[RawQuery]) -> None:
        if not raw:
            return
        # Most requests bring no new statement: their few fingerprints are checked, not every
        # query.
        if self._sampled.issuperset(line_data["statements"]):
            return
        for event, query in zip(line_data["queries"], raw, strict=True):
            fingerprint = event[0] if isinstance(event, list) else event["fingerprint"]
            if fingerprint not in self._sampled:
                self._sampled.add(fingerprint)
                self._write_sample(fingerprint, query, connections[query.alias].vendor)

    def flush(self) -> None:
        """Write the held lines now (RECORD_BUFFER)."""
        with self._flushing:
            pending = self._taken()
            with self._lock:
                if not pending and not self._held:
                    return
            self._write_pending(pending)

    def _write_held(self, fd: int) -> None:
        # Emptied first: lines a failed write did not put on disk are not written twice.
        lines, self._held = self._held, bytearray()
        if lines:
            _append(fd, lines)

    def _write_sample(self, fingerprint: str, query: RawQuery, vendor: str) -> None:
        # What is kept of the values (SAMPLES, redaction of secrets) is decided in samples.py.
        params = None if query.many else query.params
        write_sample(self.directory, fingerprint, query.sql, params, query.alias, vendor)

    def _write_environment(self) -> None:
        path = self.directory / "environment.json"
        if path.exists():
            return
        data = {
            "python": platform.python_version(),
            "django": django.get_version(),
            "perftoolkit": perftoolkit.__version__,
            "database": ", ".join(sorted({connections[a].vendor for a in connections})),
        }
        conf = get_settings()
        if conf.sample_rate < 1.0:
            data[SAMPLE_RATE_KEY] = f"{conf.sample_rate:g}"
            if conf.slow_request_ms is not None:
                data[SLOW_REQUEST_KEY] = f"{conf.slow_request_ms:g}"
        unavailable = compat.problems()
        if unavailable:
            data[UNAVAILABLE_KEY] = compat.describe(unavailable)
        tmp = path.with_name(f".environment.{os.getpid()}.json")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, path)
