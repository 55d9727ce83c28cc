"""The recording contract: one JSON line per request appended to `<dir>/<pid>.jsonl`.

The file is opened once per process (reopened after a fork) and each line is one `os.write` on an
O_APPEND descriptor, so gunicorn workers and threads never interleave. Besides the lines, the
first run of each statement shape leaves one sample parameter set in `<dir>/samples/` for the
index adviser's EXPLAIN: local files that enter a report only when asked (`--include-params`).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import threading
from pathlib import Path
from typing import Any

import django
from django.db import connections

import perftoolkit
from perftoolkit.conf import get_settings
from perftoolkit.core.runs.run import SAMPLE_RATE_KEY, SLOW_REQUEST_KEY
from perftoolkit.middleware.capture import compat
from perftoolkit.middleware.capture.capture import RawQuery
from perftoolkit.middleware.recording import UNAVAILABLE_KEY
from perftoolkit.middleware.samples import prepare_directory, write_sample

try:  # the `fast` extra: encodes a line some 10 times faster than json (benchmarks/README.md)
    import orjson
except ImportError:  # pragma: no cover - the test suite installs it
    orjson = None  # type: ignore[assignment]

logger = logging.getLogger("perftoolkit")
_recorders: dict[str, Recorder] = {}
_lock = threading.Lock()


def _forget_descriptors() -> None:
    # A forked worker (gunicorn) writes its own <pid>.jsonl: drop the parent's descriptors.
    for recorder in _recorders.values():
        recorder.forget()


os.register_at_fork(after_in_child=_forget_descriptors)


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
        self._lock = threading.Lock()
        self._sampled: set[str] = set()

    def forget(self) -> None:
        """In a forked child: the parent's descriptor is not ours to write to."""
        self._fd = None
        self._sampled = set()
        self._lock = threading.Lock()

    def _descriptor(self) -> int:
        if self._fd is None:
            pid = os.getpid()
            prepare_directory(self.directory)
            self._fd = os.open(
                self.directory / f"{pid}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
            )
            self._write_environment()
        return self._fd

    def record(self, line_data: dict[str, Any], raw: list[RawQuery]) -> None:
        """Append one request (RequestProfile.to_dict() form); sample new statement shapes."""
        line = encode_line(line_data)
        with self._lock:
            fd = self._descriptor()
            os.write(fd, line)
            for event, query in zip(line_data["queries"], raw, strict=True):
                fingerprint = event[0] if isinstance(event, list) else event["fingerprint"]
                if fingerprint not in self._sampled:
                    self._sampled.add(fingerprint)
                    self._write_sample(fingerprint, query, connections[query.alias].vendor)

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
