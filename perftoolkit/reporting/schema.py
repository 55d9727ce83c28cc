"""AuditRun ⇄ report.json (`perftoolkit.audit/1`): deterministic, versioned, validated on read."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from perftoolkit.core.events import CacheStats
from perftoolkit.core.findings import Finding, IgnoredFinding, IndexAdvice
from perftoolkit.core.latency import Histogram
from perftoolkit.core.runs.compare import SCHEMA as COMPARE_SCHEMA
from perftoolkit.core.runs.compare import Comparison
from perftoolkit.core.runs.loadstats import LoadStats
from perftoolkit.core.runs.paths import QueryPath
from perftoolkit.core.runs.run import SCHEMA, AppliedFix, AuditRun, EndpointStats, QueryStats
from perftoolkit.core.runs.taskerrors import LoadException
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.reporting.validation import COMPARISON, REPORT, validate

# The name of a run's report wherever one is written or looked for.
REPORT_FILE = "report.json"
SCHEMA_FAMILY, _, SCHEMA_MAJOR = SCHEMA.partition("/")
_REQUIRED = ("label", "endpoints", "queries", "findings")
_REBUILD = (
    "Rebuild it with `perftoolkit report build <record-dir> -o report.json` rather than editing "
    "it by hand."
)


def run_to_dict(run: AuditRun, *, location: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The report.json data; `location` (where the file goes) makes `record_dir` relative to it.

    Without a location `record_dir` is null: a report never holds an absolute path.
    """
    gets, hits = run.cache.gets, run.cache.hits
    data = {
        "schema": run.schema,
        "label": run.label,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "complete": run.complete,
        "environment": dict(run.environment),
        "endpoints": [e.to_dict() for e in run.endpoints],
        "queries": [q.to_dict() for q in run.queries],
        "findings": [f.to_dict() for f in run.findings],
        "indexes": [i.to_dict() for i in run.indexes],
        "load": run.load.to_dict() if run.load else None,
        "cache": {"gets": gets, "hits": hits, "ratio": round(hits / gets, 4) if gets else None},
        "notes": list(run.notes),
        "record_dir": _relative_record_dir(run.record_dir, location),
        "fixes": [f.to_dict() for f in run.fixes],
        "ignored": [i.to_dict() for i in run.ignored],
        "skipped_lines": run.skipped_lines,
        "unmeasured_requests": run.unmeasured_requests,
    }
    return _with_verdict_data(data, run)


def build_summary(output: str | os.PathLike[str], run: AuditRun) -> str:
    """The line `report build` prints: what was written, and what was left out."""
    requests = sum(e.requests for e in run.endpoints)
    skipped = f", {run.skipped_lines} unreadable lines skipped" if run.skipped_lines else ""
    if run.unmeasured_requests:
        skipped += f", {run.unmeasured_requests} requests not measured (capture failed)"
    return (
        f"{os.fspath(output)}: {len(run.endpoints)} endpoints, {requests} requests, "
        f"{len(run.findings)} findings{skipped}"
    )


def _relative_record_dir(
    record_dir: str | None, location: str | os.PathLike[str] | None
) -> str | None:
    if record_dir is None or location is None:
        return None
    base = Path(location).resolve().parent
    return Path(os.path.relpath(Path(record_dir).resolve(), base)).as_posix()


def run_from_dict(
    data: Any, *, source: str = "report", location: str | os.PathLike[str] | None = None
) -> AuditRun:
    """Validate and read a report; `source` names the file in error messages.

    `location` is the report file's path: its `record_dir` is resolved against it.
    """
    if not isinstance(data, dict):
        raise ReportFormatError(
            f"{source} is not a perftoolkit report: its top level is not a JSON object."
        )
    check_schema(data.get("schema"), expected=SCHEMA, source=source)
    for key in _REQUIRED:
        if key not in data:
            raise ReportFormatError(
                f"{source} has no {key!r} key, which every {SCHEMA} report has. "
                "Rebuild it with `perftoolkit report build <record-dir> -o report.json`."
            )
    validate(data, REPORT, source=source, fix=_REBUILD)
    try:
        run = AuditRun(
            schema=SCHEMA,
            label=str(data["label"]),
            started_at=str(data.get("started_at", "")),
            finished_at=str(data.get("finished_at", "")),
            complete=bool(data.get("complete", True)),
            environment={str(k): str(v) for k, v in (data.get("environment") or {}).items()},
            endpoints=tuple(EndpointStats.from_dict(e) for e in data["endpoints"]),
            queries=tuple(QueryStats.from_dict(q) for q in data["queries"]),
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
            indexes=tuple(IndexAdvice.from_dict(i) for i in data.get("indexes") or []),
            load=LoadStats.from_dict(data.get("load")),
            cache=CacheStats.from_dict(data.get("cache")),
            notes=tuple(str(n) for n in data.get("notes", [])),
            record_dir=_absolute_record_dir(data.get("record_dir"), location),
            fixes=tuple(AppliedFix.from_dict(f) for f in data.get("fixes") or []),
            ignored=tuple(IgnoredFinding.from_dict(i) for i in data.get("ignored") or []),
            skipped_lines=int(data.get("skipped_lines", 0)),
            unmeasured_requests=int(data.get("unmeasured_requests", 0)),
        )
        return _read_verdict_data(data, run)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReportFormatError(
            f"{source} is a {SCHEMA} report with a malformed entry ({type(exc).__name__}: {exc}). "
            "Rebuild it rather than editing it by hand."
        ) from exc


# What the audit's verdicts need, kept beside the rest of report.json (all optional on read, so
# reports written before them still load; their comparisons then say "not judged"):
#   incomplete_reason              why `complete` is false (null when complete)
#   endpoints[].duration_histogram every recorded request's server-side duration, {ms: count},
#                                  ms in logarithmic buckets 2 % wide (core.latency)
#   endpoints[].active_histogram   the same, less the time each request's thread waited for a
#                                  CPU (audits on Linux; empty elsewhere)
#   endpoints[].query_paths        the requests grouped by the set of statement shapes they ran:
#                                  key (a hash of the set), requests, queries_min, queries_max
#   load.entries[].histogram       Locust's response times, {ms: count} (likewise load.total)
#   load.exceptions[]              what Locust's tasks raised: count, message, traceback (the
#                                  last frame)


def _with_verdict_data(data: dict[str, Any], run: AuditRun) -> dict[str, Any]:
    data["incomplete_reason"] = run.incomplete_reason
    for entry, endpoint in zip(data["endpoints"], run.endpoints, strict=True):
        entry["duration_histogram"] = endpoint.durations.to_dict()
        entry["active_histogram"] = endpoint.active.to_dict()
        entry["query_paths"] = [p.to_dict() for p in endpoint.query_paths]
    if run.load is not None and data["load"] is not None:
        load = data["load"]
        for entry, stats in zip(load["entries"], run.load.entries, strict=True):
            entry["histogram"] = stats.histogram.to_dict()
        load["total"]["histogram"] = run.load.total.histogram.to_dict()
        load["exceptions"] = [e.to_dict() for e in run.load.exceptions]
    return data


def _read_verdict_data(data: dict[str, Any], run: AuditRun) -> AuditRun:
    reason = data.get("incomplete_reason")
    endpoints = tuple(
        replace(
            endpoint,
            durations=_histogram(entry.get("duration_histogram")),
            active=_histogram(entry.get("active_histogram")),
            query_paths=tuple(QueryPath.from_dict(p) for p in entry.get("query_paths") or []),
        )
        for endpoint, entry in zip(run.endpoints, data["endpoints"], strict=True)
    )
    load = run.load
    raw = data.get("load")
    if load is not None and isinstance(raw, dict):
        load = replace(
            load,
            entries=tuple(
                replace(stats, histogram=_histogram(entry.get("histogram")))
                for stats, entry in zip(load.entries, raw.get("entries", []), strict=True)
            ),
            total=replace(load.total, histogram=_histogram(raw["total"].get("histogram"))),
            exceptions=tuple(LoadException.from_dict(e) for e in raw.get("exceptions") or []),
        )
    return run.with_changes(
        incomplete_reason=str(reason) if reason is not None else None,
        endpoints=endpoints,
        load=load,
    )


def _histogram(value: Any) -> Histogram:
    return Histogram() if value is None else Histogram.from_dict(value)


def _absolute_record_dir(value: Any, location: str | os.PathLike[str] | None) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    try:
        if not path.is_absolute():
            base = Path(location).resolve().parent if location is not None else Path.cwd()
            path = base / path
        return os.fspath(path.resolve())
    except (OSError, RuntimeError, ValueError):  # a symbolic link loop, a NUL byte
        return os.fspath(path)


def check_schema(
    value: Any,
    *,
    expected: str,
    source: str,
    build_hint: str = "Build one with `perftoolkit report build`.",
) -> None:
    family, _, major = expected.partition("/")
    if not isinstance(value, str) or "/" not in value:
        raise ReportFormatError(
            f"{source} has no 'schema' field naming {expected!r}, so it is not a perftoolkit file "
            f"this version can read. {build_hint}"
        )
    got_family, _, got_version = value.partition("/")
    got_major = got_version.split(".")[0]
    if got_family != family or got_major != major:
        raise ReportFormatError(
            f"{source} has schema {value!r}; this perftoolkit reads {expected!r}. "
            "Use the perftoolkit version that wrote it, or rebuild it from its recordings."
        )


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write deterministic JSON atomically."""
    return write_text(dumps(data), path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file + rename), so an interrupted write never leaves half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        # mkstemp makes the file private (0600); reports are meant to be shared and served.
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_run(run: AuditRun, path: str | os.PathLike[str]) -> Path:
    return write_json(run_to_dict(run, location=path), path)


def load_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file, turning every way it can fail into one clear ReportFormatError."""
    source = os.fspath(path)
    try:
        if Path(source).exists() and not Path(source).is_dir() and not Path(source).is_file():
            raise ReportFormatError(
                f"{source} is not a regular file (a device or a pipe). Give the path of a "
                "report.json."
            )
        text = Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportFormatError(
            f"{source} does not exist. Give the path of a report.json."
        ) from None
    except IsADirectoryError:
        raise ReportFormatError(
            f"{source} is a directory. Give the report.json inside it, or build one with "
            f"`perftoolkit report build {source} -o report.json`."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportFormatError(f"{source} cannot be read: {exc}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "Regenerate it; reports are written by perftoolkit, not by hand."
        ) from None
    except RecursionError:
        raise ReportFormatError(
            f"{source} is nested too deeply to be a report. Regenerate it; reports are written by "
            "perftoolkit, not by hand."
        ) from None


def read_run(path: str | os.PathLike[str]) -> AuditRun:
    return run_from_dict(load_json(path), source=os.fspath(path), location=path)


def comparison_from_dict(data: Any, *, source: str = "comparison") -> Comparison:
    """Validate and read a compare.json (`perftoolkit.compare/1`)."""
    if not isinstance(data, dict):
        raise ReportFormatError(
            f"{source} is not a perftoolkit comparison: its top level is not a JSON object."
        )
    check_schema(
        data.get("schema"),
        expected=COMPARE_SCHEMA,
        source=source,
        build_hint="Write one with `perftoolkit report compare BEFORE AFTER`.",
    )
    validate(
        data,
        COMPARISON,
        source=source,
        fix="Write it again with `perftoolkit report compare BEFORE AFTER`.",
    )
    try:
        return Comparison.from_dict({**data, "schema": COMPARE_SCHEMA})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReportFormatError(
            f"{source} is a {COMPARE_SCHEMA} file with a malformed entry "
            f"({type(exc).__name__}: {exc}). Write it again with `perftoolkit report compare`."
        ) from exc


def read_comparison(path: str | os.PathLike[str]) -> Comparison:
    return comparison_from_dict(load_json(path), source=os.fspath(path))
