"""One record line → its request's numbers and its shape, validated (the reader's half of the
recording contract; `recorder.py` writes the lines).

A line is split as the report needs it: the numbers that vary from request to request (status,
start, duration, cache use, each query's time) and everything else, the *shape*: endpoint, view,
statements, rows without their times, parameter hashes reduced to their pattern of equality
(`"a1", "b2", "a1"` → `"0", "1", "0"`: they are salted per process and mean nothing across
requests, but detectors compare them within one), callsites, relations, eager loads. The request's
path, query string and user are numbers too: `/books/7/` by one user and `/books/8/` by another
are one shape. Two requests
whose shapes are equal get the same findings, so a shape is validated and analysed once.

Every value read is checked for its type and range: a line that fails is skipped by the reader
(and counted), never turned into a traceback or a wrong figure.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from perftoolkit.core.events import ROW_FIELDS

_FINGERPRINT = ROW_FIELDS.index("fingerprint")
_MS = ROW_FIELDS.index("ms")
_PARAMS_KEY = ROW_FIELDS.index("params_key")
# 9999-12-31T23:59:59Z, the last second a report's timestamps can show.
MAX_TIMESTAMP = 253_402_300_799.0
# A request or query that took more than a week was not measured: it is a corrupt value.
MAX_MS = 7 * 24 * 3600 * 1000.0
_TARGET = ("path", "query", "user")
_CANONICAL_KEYS = tuple(str(i) for i in range(1024))
_LIST, _STR, _NUMBER = frozenset({list}), frozenset({str}), frozenset({int, float})
_RELATION_KINDS = frozenset(
    {"forward", "reverse_one", "reverse_many", "many", "generic", "generic_many"}
)


class BadLine(ValueError):
    """Why a line is not a request record, in a few words naming the field."""


@dataclass(slots=True)
class Numbers:
    """What varies between requests of one shape."""

    status: int
    view: str
    started_at: float
    duration_ms: float
    cache_gets: int
    cache_hits: int
    ms: list[float]
    key: tuple[Any, ...]  # a hash key for the shape (equal shapes, equal keys; not the reverse)
    # The request's own target (`path`, `query`, `user`, those it has): no detector reads them,
    # and requests of one shape to other rows or by other users are still one shape.
    target: dict[str, Any]


def parse(raw: bytes) -> dict[str, Any]:
    """The line as a JSON object, or BadLine."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadLine("nested too deeply to be a record") from None
    except (
        ValueError
    ) as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise BadLine(f"not JSON: {exc}") from None
    if type(data) is not dict:
        raise BadLine(f"a JSON {_json_type(data)}, not an object")
    return data


def split(data: dict[str, Any]) -> Numbers:
    """Take the varying numbers out of `data` (which is left as the request's shape)."""
    if type(data.get("method")) is not str or type(data.get("route")) is not str:
        raise BadLine("'method' and 'route' must be strings")
    status = data.pop("status", 200)
    if type(status) is not int or not 100 <= status <= 999:
        raise BadLine(f"'status' must be an HTTP status code, not {_show(status)}")
    # Left in the shape: detectors read it (a ModelAdmin's change list is known by its view).
    view = data.get("view", "")
    if type(view) is not str:
        raise BadLine(f"'view' must be a string, not {_show(view)}")
    _text(view, "view")
    started = _number(data.pop("started_at", 0.0), "started_at", MAX_TIMESTAMP)
    duration = _number(data.pop("duration_ms", 0.0), "duration_ms", MAX_MS)
    gets, hits = _cache(data.pop("cache", None))
    target = {name: data.pop(name) for name in _TARGET if name in data}
    rows = data.get("queries", [])
    if type(rows) is not list:
        raise BadLine(f"'queries' must be a list, not {_show(rows)}")
    if rows and type(rows[0]) is dict:
        rows = data["queries"] = _legacy_rows(rows, data)
    # Bulk checks first (the loops run in C); the shape comparison then rejects any row whose
    # other fields differ from an already validated line's.
    if not set(map(type, rows)) <= _LIST:
        raise BadLine("a query is not a [fingerprint, ms, …] row")
    try:
        fingerprints = tuple([row[_FINGERPRINT] for row in rows])
        ms = [row[_MS] for row in rows]
    except IndexError:
        raise BadLine("a query row has no time") from None
    if not set(map(type, fingerprints)) <= _STR:
        raise BadLine("a query's fingerprint is not a string")
    if ms:
        kinds = set(map(type, ms))
        if not kinds <= _NUMBER:
            raise BadLine("a query's 'ms' is not a number")
        if int in kinds:
            try:
                ms = [float(v) for v in ms]
            except OverflowError:  # an integer past any float: past any duration too
                bad = next(v for v in ms if type(v) is int and v > MAX_MS)
                raise BadLine(f"a query's 'ms' is {_show(bad)}, not a duration") from None
        total = sum(ms)
        if not (min(ms) >= 0.0 and max(ms) <= MAX_MS and total == total):  # NaN != NaN
            bad = next(v for v in ms if not 0.0 <= v <= MAX_MS)
            raise BadLine(f"a query's 'ms' is {_show(bad)}, not a duration")
    keys: dict[str, str] = {}
    for row in rows:
        row[_MS] = 0
        if len(row) > _PARAMS_KEY:
            key = row[_PARAMS_KEY]
            if key is not None:
                if key.__class__ is not str:
                    raise BadLine("a query's 'params_key' is not a string")
                canonical = keys.get(key)
                if canonical is None:
                    n = len(keys)
                    canonical = keys[key] = _CANONICAL_KEYS[n] if n < 1024 else str(n)
                row[_PARAMS_KEY] = canonical
    key = (data["method"], data["route"], fingerprints)
    return Numbers(status, view, started, duration, gets, hits, ms, key, target)


def _number(value: Any, name: str, limit: float) -> float:
    kind = type(value)
    if (kind is float or kind is int) and 0 <= value <= limit:
        return float(value)
    raise BadLine(f"'{name}' is {_show(value)}, not a number from 0 to {limit:g}")


def _cache(cache: Any) -> tuple[int, int]:
    if cache is None:
        return 0, 0
    if type(cache) is not dict:
        raise BadLine(f"'cache' must be an object, not {_show(cache)}")
    gets, hits = cache.get("gets", 0), cache.get("hits", 0)
    if type(gets) is not int or type(hits) is not int or not 0 <= hits <= gets:
        raise BadLine(f"'cache' must hold counts with 0 <= hits <= gets, not {_show(cache)}")
    return gets, hits


def _legacy_rows(rows: list[Any], data: dict[str, Any]) -> list[Any]:
    """Queries written as objects (an earlier form of the line) as rows."""
    statements = dict(data.get("statements") or {})
    converted = []
    for item in rows:
        if type(item) is not dict:
            raise BadLine("'queries' mixes rows and objects")
        item = dict(item)
        sql = item.pop("sql", None)
        fingerprint = item.get("fingerprint")
        if sql is not None and type(fingerprint) is str:
            statements.setdefault(fingerprint, sql)
        fixed = [item.pop(name, None) for name in ROW_FIELDS[:-1]]
        fixed.append(item or None)
        converted.append(fixed)
    data["statements"] = statements
    return converted


# The shape: checked once per shape, before the detectors see it ------------------------------


def check_shape(data: dict[str, Any]) -> None:
    """Every field of a shape (what `split` left) has the type and range the reader needs."""
    _text(data["method"], "method")
    if not data["method"]:
        raise BadLine("'method' is empty")
    _text(data["route"], "route")
    statements = data.get("statements", {})
    if type(statements) is not dict:
        raise BadLine("'statements' must be an object")
    for fingerprint, sql in statements.items():
        _text(sql, f"statements.{fingerprint}")
    sites = _list(data.get("sites", []), "sites")
    for i, site in enumerate(sites):
        _site(site, f"sites[{i}]")
    relations = _list(data.get("relations", []), "relations")
    for i, relation in enumerate(relations):
        _relation(relation, f"relations[{i}]")
    for i, row in enumerate(data.get("queries", [])):
        _row(row, f"queries[{i}]", len(sites), len(relations))
    for i, load in enumerate(_list(data.get("eager_loads", []), "eager_loads")):
        _eager(load, f"eager_loads[{i}]")
    for i, pair in enumerate(_list(data.get("accessed", []), "accessed")):
        _pair(pair, f"accessed[{i}]")
    for i, model in enumerate(_list(data.get("loaded", []), "loaded")):
        _text(model, f"loaded[{i}]")
    if data.get("queryset_site") is not None:
        _site(data["queryset_site"], "queryset_site")
    _optional_text(data.get("queryset_model"), "queryset_model")
    _optional_text(data.get("capture_error"), "capture_error")


def _row(row: list[Any], where: str, sites: int, relations: int) -> None:
    values = dict(zip(ROW_FIELDS, row, strict=False))
    _text(values["fingerprint"], f"{where}.fingerprint")
    _ref(values.get("callsite"), sites, f"{where}.callsite", _site)
    _ref(values.get("relation"), relations, f"{where}.relation", _relation)
    _optional_text(values.get("model"), f"{where}.model")
    _optional_text(values.get("params_key"), f"{where}.params_key")
    extra = values.get("extra")
    if extra is None:
        return
    if type(extra) is not dict:
        raise BadLine(f"{where}: its last field must be an object")
    _optional_text(extra.get("alias"), f"{where}.alias")
    _ref(extra.get("render_site"), sites, f"{where}.render_site", _site)
    _ref(extra.get("caller"), sites, f"{where}.caller", _site)
    for name in ("many", "prefetch", "handed_off", "session"):
        if type(extra.get(name, False)) is not bool:
            raise BadLine(f"{where}.{name} must be true or false")
    for i, pair in enumerate(_list(extra.get("eager", []), f"{where}.eager")):
        _pair(pair, f"{where}.eager[{i}]")
    _optional_text(extra.get("source"), f"{where}.source")
    for i, name in enumerate(_list(extra.get("locals", []), f"{where}.locals")):
        _text(name, f"{where}.locals[{i}]")
    for i, ref in enumerate(_list(extra.get("lookups", []), f"{where}.lookups")):
        _ref(ref, relations, f"{where}.lookups[{i}]", _relation)
    for i, name in enumerate(_list(extra.get("default_ordering", []), f"{where}.ordering")):
        _text(name, f"{where}.default_ordering[{i}]")
    rows_from = extra.get("rows_from")
    if rows_from is not None and (type(rows_from) is not int or rows_from < -1):
        raise BadLine(f"{where}.rows_from must be a query index or -1")
    choices = extra.get("choices")
    if choices is not None:
        _choices(choices, f"{where}.choices", sites)


def _choices(choices: Any, where: str, sites: int) -> None:
    if type(choices) is not dict:
        raise BadLine(f"'{where}' must be an object")
    _text(choices.get("field"), f"{where}.field")
    _optional_text(choices.get("form"), f"{where}.form")
    _optional_text(choices.get("model"), f"{where}.model")
    _ref(choices.get("site"), sites, f"{where}.site", _site)
    if type(choices.get("declared", False)) is not bool:
        raise BadLine(f"{where}.declared must be true or false")


def _ref(value: Any, size: int, where: str, check: Any) -> None:
    """An index into the line's table, or the object itself (inline), or null."""
    if value is None:
        return
    if type(value) is int:
        if not 0 <= value < size:
            raise BadLine(f"{where} points past its table ({value})")
    else:
        check(value, where)


def _site(site: Any, where: str) -> None:
    if type(site) is not dict:
        raise BadLine(f"{where} must be an object")
    _text(site.get("file"), f"{where}.file")
    line = site.get("line")
    if type(line) is not int or line < 0:
        raise BadLine(f"{where}.line must be a line number, not {_show(line)}")
    _text(site.get("function", ""), f"{where}.function")


def _relation(relation: Any, where: str) -> None:
    if type(relation) is not dict:
        raise BadLine(f"{where} must be an object")
    for name in ("model", "field", "target"):
        _text(relation.get(name), f"{where}.{name}")
    kind = relation.get("kind")
    if type(kind) is not str or kind not in _RELATION_KINDS:
        raise BadLine(f"{where}.kind is {_show(relation.get('kind'))}, not a relation kind")
    for name in ("via", "related_query_name", "query_name"):
        _text(relation.get(name, ""), f"{where}.{name}")
    for name in ("prefetched", "constant", "same_object", "filtered"):
        if type(relation.get(name, False)) is not bool:
            raise BadLine(f"{where}.{name} must be true or false")
    for i, name in enumerate(_list(relation.get("ordering", []), f"{where}.ordering")):
        _text(name, f"{where}.ordering[{i}]")


def _eager(load: Any, where: str) -> None:
    if type(load) is not dict:
        raise BadLine(f"{where} must be an object")
    for name in ("model", "path", "kind"):
        _text(load.get(name), f"{where}.{name}")
    _text(load.get("target", ""), f"{where}.target")
    if load.get("callsite") is not None:
        _site(load["callsite"], f"{where}.callsite")
    for i, pair in enumerate(_list(load.get("hops", []), f"{where}.hops")):
        _pair(pair, f"{where}.hops[{i}]")


def _pair(pair: Any, where: str) -> None:
    if type(pair) is not list or len(pair) != 2:
        raise BadLine(f"{where} must be a pair of strings")
    _text(pair[0], where)
    _text(pair[1], where)


def _list(value: Any, where: str) -> list[Any]:
    if type(value) is not list:
        raise BadLine(f"'{where}' must be a list, not {_show(value)}")
    return value


def _optional_text(value: Any, where: str) -> None:
    if value is not None:
        _text(value, where)


def _text(value: Any, where: str) -> None:
    if type(value) is not str:
        raise BadLine(f"'{where}' must be a string, not {_show(value)}")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise BadLine(f"'{where}' is not valid Unicode text") from None


def _show(value: Any) -> str:
    if type(value) is float and not math.isfinite(value):
        return str(value)
    text = json.dumps(value) if isinstance(value, str | int | float | bool | None) else None
    return text if text is not None and len(text) <= 40 else f"a JSON {_json_type(value)}"


def _json_type(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "null"


class ShapeCache:
    """Shapes seen recently (least recently used dropped past a size): shape → caller's handle.

    A shape dropped and seen again is analysed again, which costs time and changes nothing.
    """

    # A parsed line takes several times its size in Python objects: 8 MB of lines is some tens of
    # megabytes held.
    def __init__(self, max_shapes: int = 2048, max_bytes: int = 8 << 20) -> None:
        self.max_shapes = max_shapes
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[Any, ...], list[tuple[dict[str, Any], Any, int]]] = (
            OrderedDict()
        )
        self.count = 0

    def find(self, key: tuple[Any, ...], shape: dict[str, Any]) -> Any:
        candidates = self._entries.get(key)
        if candidates is None:
            return None
        self._entries.move_to_end(key)
        for known, handle, _ in candidates:
            if known == shape:
                return handle
        return None

    def add(self, key: tuple[Any, ...], shape: dict[str, Any], handle: Any, size: int) -> None:
        self._entries.setdefault(key, []).append((shape, handle, size))
        self._entries.move_to_end(key)
        self.size += size
        self.count += 1
        while (self.count > self.max_shapes or self.size > self.max_bytes) and len(
            self._entries
        ) > 1:
            _, dropped = self._entries.popitem(last=False)
            self.count -= len(dropped)
            self.size -= sum(size for _, _, size in dropped)
