"""The types and ranges of every field `reporting.schema` reads from report.json and compare.json.

A report is data other tools and people write too (CI caches, hand edits, a newer or older
perftoolkit), and the budget gate and the comparison turn its numbers into verdicts: a
`queries.max` of -3 must not pass a budget, a latency of 1e308 must not end in an
OverflowError. So each file is checked against the shapes below before it becomes an AuditRun
or a Comparison; the first field that does not fit is named in a `ReportFormatError` (exit 1).
Keys the shapes do not name are left alone: a later minor version may add some.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from perftoolkit.exceptions import ReportFormatError

# Figures far above anything measured (a millisecond count of ~30,000 years): a value past this
# is corrupt, and arithmetic on it could overflow.
MAX_NUMBER = 1e15
MAX_COUNT = 2**53

Check = Callable[[Any, str], None]


class Invalid(ValueError):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "a long string"
    return f"a JSON {'object' if isinstance(value, dict) else 'array'}"


def text(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise Invalid(path, f"is {_shown(value)}, not a string")


def flag(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise Invalid(path, f"is {_shown(value)}, not true or false")


def count(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise Invalid(path, f"is {_shown(value)}, not a count (a whole number, 0 or more)")


def number(value: Any, path: str) -> None:
    """A measured figure: finite, 0 or more."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (0 <= value <= MAX_NUMBER and math.isfinite(value))  # an int too big for a float
    ):
        raise Invalid(path, f"is {_shown(value)}, not a finite number of 0 or more")


def ratio(value: Any, path: str) -> None:
    number(value, path)
    if value > 1:
        raise Invalid(path, f"is {_shown(value)}, not a ratio from 0 to 1")


def optional(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)

    return run


def one_of(*choices: str) -> Check:
    def run(value: Any, path: str) -> None:
        if value not in choices:
            raise Invalid(path, f"is {_shown(value)}, not one of {', '.join(choices)}")

    return run


def array(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise Invalid(path, f"is {_shown(value)}, not a list")
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]")

    return run


def mapping(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(path, f"is {_shown(value)}, not an object")
        for key, item in value.items():
            check(item, f"{path}.{key}")

    return run


def obj(fields: Mapping[str, Check], required: tuple[str, ...] = ()) -> Check:
    def run(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(path, f"is {_shown(value)}, not an object")
        for key in required:
            if key not in value:
                raise Invalid(f"{path}.{key}", "is missing")
        for key, check in fields.items():
            if key in value:
                check(value[key], f"{path}.{key}" if path else key)

    return run


def _nullable_obj(fields: Mapping[str, Check], required: tuple[str, ...] = ()) -> Check:
    """An object, or null, or {} (which readers take as absent)."""
    inner = obj(fields, required)

    def run(value: Any, path: str) -> None:
        if value is not None and value != {}:
            inner(value, path)

    return run


_SITE = obj({"file": text, "line": count, "function": text}, ("file", "line"))
_LATENCY = obj({"p50": optional(number), "p95": optional(number), "p99": optional(number)})
_CACHE = obj({"gets": count, "hits": count})
_LOAD_ENTRY = obj(
    {
        "method": text,
        "route": text,
        "requests": count,
        "failures": count,
        "latency_ms": obj({"p50": number, "p95": number, "p99": number}),
        "avg_ms": number,
        "min_ms": number,
        "max_ms": number,
        "rps": number,
    },
    ("method", "route"),
)
_ENDPOINT = obj(
    {
        "method": text,
        "route": text,
        "view": text,
        "requests": count,
        "status_codes": mapping(count),
        "queries": _nullable_obj(
            {"min": optional(count), "median": optional(number), "max": optional(count)}
        ),
        "duplicates": optional(number),
        "duplicates_max": optional(count),
        "db_ms": _nullable_obj({"median": optional(number), "p95": optional(number)}),
        "latency_ms": _nullable_obj(
            {"p50": optional(number), "p95": optional(number), "p99": optional(number)}
        ),
        "latency_source": text,
        "cache": _nullable_obj({"gets": count, "hits": count}),
        "budget": _nullable_obj(
            {
                "limits": mapping(number),
                "status": one_of("ok", "exceeded", "none"),
                "exceeded": array(text),
            }
        ),
        "finding_ids": array(text),
        "failures": count,
    },
    ("method", "route"),
)
_QUERY = obj(
    {
        "fingerprint": text,
        "sql": text,
        "tables": array(text),
        "kind": text,
        "routes": array(text),
        "calls": count,
        "total_ms": number,
        "max_ms": number,
        "per_request_max": count,
    },
    ("fingerprint", "sql"),
)
_FINDING = obj(
    {
        "kind": text,
        "method": text,
        "route": text,
        "message": text,
        "severity": text,
        "model": optional(text),
        "field": optional(text),
        "path": optional(text),
        "repeats": count,
        "requests": count,
        "fingerprint": optional(text),
        "sql_example": optional(text),
        "callsite": optional(_SITE),
        "origin": optional(_SITE),
        "fix": optional(obj({"action": text, "code": text, "note": text}, ("action", "code"))),
    },
    ("kind",),
)
_INDEX = obj(
    {
        "table": text,
        "columns": array(text),
        "model": optional(text),
        "status": text,
        "reason": text,
        "plan_before": text,
        "plan_after": text,
        "est_cost_before": optional(number),
        "est_cost_after": optional(number),
        "migration": text,
        "queries": array(text),
        "name": text,
    },
    ("table", "status"),
)
REPORT = obj(
    {
        "label": text,
        "started_at": text,
        "finished_at": text,
        "complete": flag,
        "environment": optional(mapping(text)),
        "endpoints": array(_ENDPOINT),
        "queries": array(_QUERY),
        "findings": array(_FINDING),
        "indexes": optional(array(_INDEX)),
        "load": _nullable_obj(
            {
                "tool": text,
                "users": count,
                "spawn_rate": number,
                "run_time_s": number,
                "workers": count,
                "profiles": array(text),
                "entries": array(_LOAD_ENTRY),
                "total": _LOAD_ENTRY,
            },
            ("total",),
        ),
        "cache": _nullable_obj({"gets": count, "hits": count, "ratio": optional(ratio)}),
        "notes": array(text),
        "record_dir": optional(text),
        "skipped_lines": count,
        "unmeasured_requests": count,
    }
)

_DELTA = _nullable_obj({"before": optional(number), "after": optional(number)})
_RUN_REF = obj(
    {"label": text, "started_at": text, "finished_at": text, "complete": flag}, ("label",)
)
_CHANGE = obj(
    {
        "id": text,
        "kind": text,
        "method": text,
        "route": text,
        "severity": text,
        "message": text,
        "callsite": optional(text),
        "repeats": _DELTA,
    },
    ("id", "kind"),
)
_TRIO = _nullable_obj({"p50": _DELTA, "p95": _DELTA, "p99": _DELTA})
COMPARISON = obj(
    {
        "before": _RUN_REF,
        "after": _RUN_REF,
        "tolerance": number,
        "totals": _nullable_obj(
            {
                "endpoints": _DELTA,
                "requests": _DELTA,
                "queries": _DELTA,
                "queries_per_request": _DELTA,
                "findings": _DELTA,
                "latency_ms": _TRIO,
                "failures": _DELTA,
                "cache_hit_ratio": _DELTA,
            }
        ),
        "endpoints": array(
            obj(
                {
                    "method": text,
                    "route": text,
                    "requests": _DELTA,
                    "queries": _nullable_obj({"min": _DELTA, "median": _DELTA, "max": _DELTA}),
                    "duplicates": _DELTA,
                    "db_ms": _nullable_obj({"median": _DELTA, "p95": _DELTA}),
                    "latency_ms": _TRIO,
                    "cache_hit_ratio": _DELTA,
                    "findings": _DELTA,
                    "budget": _nullable_obj({"before": text, "after": text}),
                    "regressions": array(text),
                },
                ("method", "route"),
            )
        ),
        "only_before": array(obj({"method": text, "route": text}, ("method", "route"))),
        "only_after": array(obj({"method": text, "route": text}, ("method", "route"))),
        "findings": _nullable_obj(
            {"fixed": array(_CHANGE), "new": array(_CHANGE), "remaining": array(_CHANGE)}
        ),
    },
    ("before", "after"),
)


def validate(data: Any, shape: Check, *, source: str, fix: str) -> None:
    """Raise ReportFormatError naming `source`, the field and `fix` when `data` does not fit."""
    try:
        shape(data, "")
    except Invalid as exc:
        field = exc.path.lstrip(".") or "its top level"
        raise ReportFormatError(f"{source}: {field} {exc.problem}. {fix}") from None
    except RecursionError:
        raise ReportFormatError(f"{source} is nested too deeply to be a report. {fix}") from None
