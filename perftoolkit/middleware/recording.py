"""Record directories → AuditRun: the one implementation behind `perftoolkit report build` and
`manage.py perf_report build` (and the audit, which adds a server and Locust around it).

A record directory holds `<pid>.jsonl` files (one request per line, see the recording contract),
`samples/` (parameters for EXPLAIN; read only by the index adviser) and `environment.json`.
Several directories (one per server) merge into one run.

The files are streamed, never loaded whole: each line is validated and split into its numbers
and its shape (`record_lines.py`), a shape is analysed once, and `core.runs.aggregate` keeps only
per-endpoint, per-statement and per-finding state. A line that cannot be read — torn by a crash,
glued to the next by a reused pid, foreign, or out of range — is skipped and counted
(`skipped_lines`, and a note every view shows); a build fails only when nothing is readable.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from perftoolkit.core.diagnosis import DEFAULT_DETECTORS, load_detectors
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions
from perftoolkit.core.runs.aggregate import RunAggregator, ShapeHandle, shape_of
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.run import (
    SLOW_REQUEST_KEY,
    AuditRun,
    Detector,
    FindingFilter,
    sampled_at,
)
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.middleware.ignoring import finding_filter
from perftoolkit.middleware.record_lines import BadLine, ShapeCache, check_shape, parse, split

logger = logging.getLogger("perftoolkit")
# environment.json: what part of the capture could not work where the requests were recorded.
UNAVAILABLE_KEY = "capture_unavailable"
_CHUNK = 1 << 20
# A line longer than this is not one the middleware wrote; it is skipped without being held.
MAX_LINE_BYTES = 64 << 20
# A torn line followed by the next process's first line (a reused pid) still holds that line.
_LINE_START = b'{"method":'
_EXAMPLES = 5
_PathLike = str | os.PathLike[str]


class RecordReader:
    """Reads record directories into a RunAggregator, line by line."""

    def __init__(
        self,
        directories: Sequence[Path],
        *,
        detectors: Sequence[Detector],
        options: DetectionOptions,
        since: float | None = None,
        aggregator: RunAggregator | None = None,
        shapes: ShapeCache | None = None,
        ignore: FindingFilter | None = None,
    ) -> None:
        self.directories = directories
        self.options = options
        self.since = since
        defaults = set(load_detectors(DEFAULT_DETECTORS))
        # The default detectors read only a request's shape; any other may read its timings,
        # so it runs on every request.
        self.shape_detectors = [d for d in detectors if d in defaults]
        self.request_detectors = [d for d in detectors if d not in defaults]
        self.aggregator = aggregator or RunAggregator(ignore=ignore)
        self.shapes = shapes or ShapeCache()
        self.lines = 0  # readable request lines, `since` or not
        self.skipped = 0
        self.examples: list[str] = []
        self.skipped_files: list[str] = []
        self.found = 0  # entries named *.jsonl, readable or not
        self.analysed = 0  # shapes the detectors ran on
        self.failed_detectors: dict[str, str] = {}
        # Lines of requests whose capture was abandoned (`capture_error`): where it failed, and
        # on which endpoints. They hold no measurement, so no endpoint counts them.
        self.unmeasured: Counter[str] = Counter()
        self.unmeasured_routes: Counter[str] = Counter()

    def read(self) -> None:
        for d, directory in enumerate(self.directories):
            files = _record_files(directory, self.skipped_files)
            self.found += len(files)
            for f, file in enumerate(files):
                self._read_file(file, (d, f))
        self.found += len(self.skipped_files)

    def _read_file(self, file: Path, where: tuple[int, int]) -> None:
        try:
            handle = file.open("rb")
        except OSError as exc:
            self.skipped_files.append(f"{file.name} ({exc.strerror or exc})")
            return
        name = file.name if len(self.directories) == 1 else f"{file.parent.name}/{file.name}"
        with handle:
            try:
                for number, raw, last in _lines(handle):
                    self._line(raw, name, number, last, where)
            except OSError as exc:  # an I/O error mid-file: what was read counts
                self.skipped_files.append(f"{name} (read failed: {exc.strerror or exc})")

    def _line(
        self, raw: bytes | None, name: str, number: int, last: bool, where: tuple[int, int]
    ) -> None:
        if raw is None:
            self._skip(name, number, f"longer than {MAX_LINE_BYTES:,} bytes")
            return
        if not raw.strip():
            return
        try:
            self._accept(parse(raw), raw, number, where)
        except BadLine as exc:
            reason = (
                "incomplete last line" if last and str(exc).startswith("not JSON") else str(exc)
            )
            start = raw.rfind(_LINE_START, 1)
            if start > 0 and reason.startswith(("not JSON", "incomplete")):
                try:
                    self._accept(parse(raw[start:]), raw[start:], number, where)
                    reason = "a torn line the next request was appended to"
                except BadLine:
                    pass
            self._skip(name, number, reason)

    def _accept(
        self, data: dict[str, Any], raw: bytes, number: int, where: tuple[int, int]
    ) -> None:
        """Count one parsed line (BadLine when it is not a valid request record)."""
        numbers = split(data)
        if self.since is not None and numbers.started_at < self.since:
            self.lines += 1
            return
        error = data.get("capture_error")
        if error is not None:
            if type(error) is not str or not 0 < len(error) <= 100:
                raise BadLine(f"'capture_error' must be a place name, not {error!r:.40}")
            self.lines += 1
            self.unmeasured[error] += 1
            self.unmeasured_routes[f"{data['method']} {data['route']}"] += 1
            return
        order = (numbers.started_at, *where, number)
        handle = self.shapes.find(numbers.key, data)
        if handle is None:
            handle = self._new_shape(data, numbers.key, order, len(raw))
        profile = _from_dict(parse(raw)) if self.request_detectors else None
        self.lines += 1
        self.aggregator.add(
            handle,
            order,
            status=numbers.status,
            view=numbers.view,
            started_at=numbers.started_at,
            duration_ms=numbers.duration_ms,
            cache_gets=numbers.cache_gets,
            cache_hits=numbers.cache_hits,
            ms=numbers.ms,
        )
        if profile is not None:
            findings = [f for d in self.request_detectors for f in self._detect(d, profile)]
            self.aggregator.add_findings(findings, order, first_index=1_000_000)

    def _new_shape(
        self, data: dict[str, Any], key: tuple[Any, ...], order: Any, size: int
    ) -> ShapeHandle:
        check_shape(data)
        profile = _from_dict(data)
        self.analysed += 1
        shape = shape_of(profile, self.shape_detectors, self.options, on_error=self._failed)
        handle = self.aggregator.register(shape, order)
        self.shapes.add(key, data, handle, size)
        return handle

    def _detect(self, detect: Detector, profile: RequestProfile) -> list[Any]:
        try:
            return detect(profile, self.options)
        except Exception as exc:
            self._failed(detect, exc)
            return []

    def _failed(self, detect: Detector, exc: Exception) -> None:
        name = f"{getattr(detect, '__module__', '')}.{getattr(detect, '__qualname__', detect)}"
        if name not in self.failed_detectors:
            logger.warning(
                "perftoolkit: detector %s failed on a recorded request", name, exc_info=exc
            )
            self.failed_detectors[name] = f"{type(exc).__name__}: {exc}"

    def _skip(self, name: str, number: int, reason: str) -> None:
        self.skipped += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{name}:{number} ({reason})")

    def finish(
        self,
        *,
        label: str | None = None,
        load: LoadStats | None = None,
        complete: bool = True,
        notes: Sequence[str] = (),
    ) -> AuditRun:
        """The run, once `read()` has read everything (ReportFormatError when nothing was)."""
        paths = self.directories
        if not self.found:
            shown = " ".join(str(p) for p in paths)
            raise ReportFormatError(
                f"{shown} holds no recordings (*.jsonl). Is "
                "perftoolkit.middleware.QueryBudgetMiddleware in MIDDLEWARE, and did requests run "
                f"with PERFTOOLKIT_RECORD_DIR={paths[0]}?"
            )
        if not self.lines:
            raise ReportFormatError(_nothing_readable(paths, self))
        environment, extra = _merged_environment(paths)
        aggregator = self.aggregator
        started = aggregator.started if aggregator.started is not None else time.time()
        finished = aggregator.finished if aggregator.finished is not None else started
        extra += self.notes()
        sampled = sampled_at(environment)
        if sampled:
            slow = environment.get(SLOW_REQUEST_KEY)
            also = f", plus every request slower than {slow} ms" if slow else ""
            extra.append(
                f"Requests were {sampled}{also}: request and query counts are of the recorded "
                "requests, not totals."
            )
        unavailable = environment.get(UNAVAILABLE_KEY)
        if unavailable:
            extra.append(
                "Part of the capture was unavailable where these requests were recorded "
                f"({unavailable}): findings may lack the relation and the exact fix they would "
                "otherwise name."
            )
        return aggregator.finish(
            label=label or "+".join(p.resolve().name for p in paths),
            started_at=started,
            finished_at=finished,
            environment=environment,
            load=load,
            complete=complete,
            notes=[*notes, *extra],
            record_dir=os.fspath(paths[0].resolve()),
            skipped_lines=self.skipped,
            unmeasured_requests=sum(self.unmeasured.values()),
        )

    def notes(self) -> list[str]:
        notes = []
        if self.skipped:
            more = ", …" if self.skipped > len(self.examples) else ""
            notes.append(
                f"Skipped {self.skipped} unreadable line{'s' if self.skipped != 1 else ''} of the "
                f"recording: {', '.join(self.examples)}{more}. Requests on them are not counted."
            )
        if self.unmeasured:
            total = sum(self.unmeasured.values())
            places = ", ".join(f"{place} ×{n}" for place, n in sorted(self.unmeasured.items()))
            routes = ", ".join(
                f"{route} ×{n}" for route, n in self.unmeasured_routes.most_common(_EXAMPLES)
            )
            more = ", …" if len(self.unmeasured_routes) > _EXAMPLES else ""
            notes.append(
                f"{total} request{'s were' if total != 1 else ' was'} not measured: perftoolkit's "
                f"own capture failed ({places}: the server's log has an ERROR 'perftoolkit: "
                f"internal error in <place>' line with the traceback) on {routes}{more}. No "
                "endpoint "
                "counts them: their query counts are unknown, not zero."
            )
        if self.skipped_files:
            notes.append(f"Skipped files of the recording: {', '.join(self.skipped_files)}.")
        for name, error in self.failed_detectors.items():
            notes.append(
                f"Detector {name} failed on some requests ({error}); its findings for them are "
                "missing."
            )
        return notes


def _from_dict(data: dict[str, Any]) -> RequestProfile:
    try:
        return RequestProfile.from_dict(data)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise BadLine(f"malformed ({type(exc).__name__}: {exc})") from None


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes | None, bool]]:
    """(line number, bytes or None when longer than MAX_LINE_BYTES, is-the-unterminated-last)."""
    number = 0
    pending: list[bytes] = []
    held = 0
    overflow = False
    while chunk := handle.read(_CHUNK):
        parts = chunk.split(b"\n")
        for part in parts[:-1]:
            number += 1
            if overflow:
                overflow = False
                yield number, None, False
            elif pending:
                pending.append(part)
                yield number, b"".join(pending), False
                pending, held = [], 0
            else:
                yield number, part, False
        tail = parts[-1]
        if tail and not overflow:
            pending.append(tail)
            held += len(tail)
            if held > MAX_LINE_BYTES:
                pending, held, overflow = [], 0, True
    if overflow:
        yield number + 1, None, True
    elif pending:
        yield number + 1, b"".join(pending), True


def _record_files(directory: Path, skipped: list[str]) -> list[Path]:
    """The `*.jsonl` files to read; the entries of that name that are not (a directory, a
    symbolic link loop, a FIFO) go to `skipped`."""
    try:
        names = sorted(
            e.name for e in os.scandir(directory) if e.name.endswith(".jsonl") and e.name[0] != "."
        )
    except OSError as exc:
        raise ReportFormatError(
            f"{directory} cannot be listed ({exc.strerror or exc}). Check its permissions."
        ) from None
    files = []
    for name in names:
        path = directory / name
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            skipped.append(f"{name} ({exc.strerror or exc})")
            continue
        if stat.S_ISREG(mode):
            files.append(path)
        else:
            skipped.append(
                f"{name} (a directory)" if stat.S_ISDIR(mode) else f"{name} (not a file)"
            )
    return files


def _environment(path: Path) -> dict[str, str]:
    file = path / "environment.json"
    try:
        with file.open("rb") as handle:
            data: Any = json.loads(handle.read(1 << 20))
    except FileNotFoundError:
        return {}  # written by the first recorded request; a report without one says less
    except (OSError, ValueError, RecursionError) as exc:
        logger.warning(
            "perftoolkit: %s is unreadable (%s); the report leaves its environment out", file, exc
        )
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def _directories(directories: Sequence[_PathLike]) -> list[Path]:
    paths = [Path(d) for d in directories]
    if not paths:
        raise ReportFormatError("Give at least one record directory.")
    for path in paths:
        if not path.exists():
            raise ReportFormatError(
                f"{path} does not exist. Record requests into it first: run your server or tests "
                f"with PERFTOOLKIT_RECORD_DIR={path} (and perftoolkit's middleware installed)."
            )
        if not path.is_dir():
            raise ReportFormatError(
                f"{path} is a file, not a record directory. Give the directory "
                "PERFTOOLKIT_RECORD_DIR pointed at."
            )
    # One directory named twice (`rec rec/`, a symbolic link to it) is read once.
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def _merged_environment(paths: Sequence[Path]) -> tuple[dict[str, str], list[str]]:
    environments = [_environment(p) for p in paths]
    merged: dict[str, str] = {}
    notes = []
    for path, environment in zip(paths, environments, strict=True):
        for key, value in environment.items():
            if key not in merged:
                merged[key] = value
            elif merged[key] != value and key != UNAVAILABLE_KEY:
                notes.append(f"{path.name} was recorded with {key} {value}, not {merged[key]}.")
    unavailable = [e[UNAVAILABLE_KEY] for e in environments if e.get(UNAVAILABLE_KEY)]
    if unavailable:
        merged[UNAVAILABLE_KEY] = "; ".join(dict.fromkeys(unavailable))
    return merged, notes


def recorded_profiles(directory: _PathLike | Sequence[_PathLike]) -> Iterator[RequestProfile]:
    """Every readable request of record directories, one at a time, in file order; lines that
    cannot be read are passed over, as `report build` skips them (for tools that need each
    request whole, such as perf_fix's replay)."""
    many = not isinstance(directory, str | os.PathLike)
    _flush_held()
    for path in _directories(list(directory) if many else [directory]):  # type: ignore[arg-type,list-item]
        for file in _record_files(path, []):
            try:
                handle = file.open("rb")
            except OSError:
                continue
            with handle:
                for _, raw, _ in _lines(handle):
                    if raw is None or not raw.strip():
                        continue
                    try:
                        data = parse(raw)
                        target = split(data).target
                        check_shape(data)
                        data.update(target)
                    except BadLine:
                        continue
                    yield _from_dict(data)


def _flush_held() -> None:
    """Write the lines this process's recorders hold (RECORD_BUFFER) before reading."""
    from perftoolkit.middleware.recorder import flush_recorders  # it imports this module

    flush_recorders()


def build_report(
    directory: _PathLike | Sequence[_PathLike],
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
    """Aggregate record directories (and optional load statistics) into an AuditRun.

    `directory` is one directory or several (one per server: their requests merge). `since` (UNIX
    time) keeps only requests started then or later: a long-lived server's record directory also
    holds what it served before the run. `ignore` defaults to the project's ignore rules and
    inline comments (`middleware.ignoring.finding_filter`).
    """
    many = not isinstance(directory, str | os.PathLike)
    paths = _directories(list(directory) if many else [directory])  # type: ignore[arg-type,list-item]
    _flush_held()
    reader = RecordReader(
        paths,
        detectors=detectors if detectors is not None else load_detectors(),
        options=options or DetectionOptions(),
        since=since,
        ignore=ignore if ignore is not None else finding_filter(),
    )
    reader.read()
    return reader.finish(label=label, load=load, complete=complete, notes=notes)


def _nothing_readable(paths: Sequence[Path], reader: RecordReader) -> str:
    where = " ".join(str(p) for p in paths)
    if reader.skipped:
        return (
            f"Nothing recorded in {where} can be read: {reader.skipped} line"
            f"{'s' if reader.skipped != 1 else ''} skipped ({', '.join(reader.examples)}"
            f"{', …' if reader.skipped > len(reader.examples) else ''}). These files were not "
            "written by perftoolkit's middleware, or were damaged; record the requests again."
        )
    files = ", ".join(reader.skipped_files)
    return (
        f"Nothing was recorded in {where}: "
        + (f"its recordings cannot be read ({files})." if files else "its *.jsonl files are empty.")
        + " Run requests with PERFTOOLKIT_RECORD_DIR pointing at it (and perftoolkit's middleware "
        "installed), then build the report."
    )
