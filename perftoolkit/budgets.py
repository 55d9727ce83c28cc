"""The budget file, `perf-budgets.toml`: finding it, reading it strictly, rewriting it in place.

```toml
[defaults]
queries = 20          # any endpoint without its own `queries`
unlisted = "ignore"   # or "fail": every endpoint a run reaches must have a table

[endpoints."GET api/courses/"]
queries = 4           # max per request, compared with the report's queries.max
duplicates = 0        # exact duplicate statements per request
db_ms_p95 = 25.0      # optional time limits, in milliseconds
latency_ms_p95 = 120.0
```

Reading is strict: an unknown key, a wrong type, a malformed endpoint key or TOML syntax error is
a `ConfigurationError` naming the file, the line and the fix; with a URLconf at hand (see
`perftoolkit.urlconf`), so is a table whose route no longer exists. Rewrites go through tomlkit so
comments and order survive. Django is only consulted for `settings.BASE_DIR` and the
`PERFTOOLKIT["BUDGETS"]` setting, and only when settings are configured.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import InlineTable, Item

from perftoolkit.core.budget import (
    COUNT_LIMITS,
    LIMITS,
    UNLISTED_POLICIES,
    Budgets,
    EndpointBudget,
    Limits,
    endpoint_key,
)
from perftoolkit.core.routes import normalize_route
from perftoolkit.exceptions import ConfigurationError

BUDGET_FILE = "perf-budgets.toml"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
# The route the middleware records for a request no URL pattern matched (always "exists").
UNMATCHED_ROUTE = "<unmatched>"
_SHAPE = (
    'A budget file has a [defaults] table and one [endpoints."METHOD route"] table per endpoint, '
    'e.g. [endpoints."GET api/courses/"] with queries = 4.'
)
_HEADER = """\
Query budgets per endpoint: `perftoolkit budget check --report report.json` (or
`manage.py perf_budget check`, or `pytest --perf-budgets`) fails when an endpoint's worst
request goes over its table. Keys are the method and the route pattern as reports show them.
Written by `perftoolkit budget record`; `perftoolkit budget update` lowers what is now beaten.
Limits: queries and duplicates (per request), db_ms_p95 and latency_ms_p95 (milliseconds)."""


# -- finding the file ---------------------------------------------------------------------------


def display_path(path: Path) -> str:
    """The path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def search_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Where the file is looked for: the working directory, `extra`, then settings.BASE_DIR."""
    dirs = [Path.cwd(), *extra]
    base_dir = _setting("BASE_DIR")
    if base_dir:
        dirs.append(Path(os.fspath(base_dir)))
    unique: list[Path] = []
    for directory in dirs:
        if directory.resolve() not in [d.resolve() for d in unique]:
            unique.append(directory)
    return unique


def find_budget_file(
    explicit: str | os.PathLike[str] | None = None,
    *,
    dirs: Sequence[Path] | None = None,
    must_exist: bool = True,
) -> Path:
    """The budget file to use.

    `explicit` (`--budgets PATH`) wins; then `PERFTOOLKIT["BUDGETS"]`; then, in each of `dirs`
    (default `search_dirs()`), a pyproject.toml whose `[tool.perftoolkit] budgets` points to it,
    else `perf-budgets.toml`. With `must_exist=False` (recording a new file) the first candidate
    is returned even when it does not exist yet.
    """
    if explicit is not None:
        return _existing(Path(explicit), "--budgets", must_exist)
    configured = _perftoolkit_setting()
    if configured:
        return _existing(Path(configured), 'PERFTOOLKIT["BUDGETS"]', must_exist)
    searched = list(dirs) if dirs is not None else search_dirs()
    for directory in searched:
        pointer = _pyproject_pointer(directory / "pyproject.toml")
        if pointer is not None:
            return _existing(pointer, f"{display_path(directory / 'pyproject.toml')}", must_exist)
        candidate = directory / BUDGET_FILE
        if candidate.is_file():
            return candidate
    if not must_exist and searched:
        return searched[0] / BUDGET_FILE
    places = ", ".join(_place(d) for d in searched) or "nowhere: no directory to search"
    raise ConfigurationError(
        f"No {BUDGET_FILE} found (looked in {places}). Create one from a report with "
        "`perftoolkit budget record --report report.json`, or name it with --budgets PATH "
        '(or [tool.perftoolkit] budgets = "path" in pyproject.toml).'
    )


def _place(directory: Path) -> str:
    shown = display_path(directory)
    return f"the working directory ({directory})" if shown == "." else shown


def _existing(path: Path, origin: str, must_exist: bool) -> Path:
    if path.is_dir():
        raise ConfigurationError(
            f"{path} (from {origin}) is a directory; give the budget file itself, e.g. {path / BUDGET_FILE}."
        )
    if must_exist and not path.exists():
        raise ConfigurationError(
            f"{path} (from {origin}) does not exist. Create it with "
            f"`perftoolkit budget record --report report.json --budgets {path}`."
        )
    return path


def _pyproject_pointer(pyproject: Path) -> Path | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # not ours to judge; the budget search goes on
    value = data.get("tool", {}).get("perftoolkit", {}).get("budgets")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{display_path(pyproject)}: [tool.perftoolkit] budgets must be a path string, "
            f'e.g. budgets = "{BUDGET_FILE}", not {value!r}.'
        )
    return pyproject.parent / value


def _setting(name: str) -> Any:
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return None
    return getattr(settings, name, None) if settings.configured else None


def _perftoolkit_setting() -> str | None:
    value = _setting("PERFTOOLKIT")
    budgets = value.get("BUDGETS") if isinstance(value, dict) else None
    return os.fspath(budgets) if budgets else None


# -- reading ------------------------------------------------------------------------------------


def load_budgets(path: str | os.PathLike[str], *, routes: Collection[str] | None = None) -> Budgets:
    """Read and validate a budget file; `routes` (normalised) turns on the URLconf check."""
    file = Path(path)
    source = display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"{source} does not exist. Create it with `perftoolkit budget record --report report.json`."
        ) from None
    except IsADirectoryError:
        raise ConfigurationError(f"{source} is a directory, not a budget file.") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{source} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"{source} cannot be read: {exc.strerror or exc}.") from None
    return parse_budgets(text, source=source, routes=routes)


def parse_budgets(
    text: str, *, source: str = BUDGET_FILE, routes: Collection[str] | None = None
) -> Budgets:
    """Budgets from the text of a budget file, or a ConfigurationError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(_syntax_message(source, str(exc))) from None
    except RecursionError:
        raise ConfigurationError(
            f"{source} nests arrays or tables too deeply to be a budget file. {_SHAPE}"
        ) from None
    reader = _Reader(text, source)
    budgets = reader.read(data)
    if routes is not None:
        reader.check_routes(budgets, routes)
    reader.raise_problems()
    return budgets


def _syntax_message(source: str, message: str) -> str:
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    where = f"{source}:{found.group(1)}" if found else source
    what = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    hint = (
        "Each endpoint has one table: merge the two."
        if "twice" in what or "overwrite" in what
        else "Fix the TOML syntax there: strings in double quotes, endpoint tables written "
        '[endpoints."GET api/courses/"].'
    )
    column = f", column {found.group(2)}" if found else ""
    return f"{where}: not valid TOML{column}: {what}. {hint}"


class _Reader:
    """Validates parsed TOML into Budgets, collecting problems with their lines."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = _KeyLines(text)
        self.problems: list[tuple[int | None, str]] = []

    def problem(self, path: tuple[str, ...], message: str) -> None:
        self.problems.append((self.lines.line_of(path), message))

    def raise_problems(self) -> None:
        if not self.problems:
            return
        if len(self.problems) == 1:
            line, message = self.problems[0]
            where = f"{self.source}:{line}" if line else self.source
            raise ConfigurationError(f"{where}: {message}")
        items = "\n".join(
            f"  - line {line}: {message}" if line else f"  - {message}"
            for line, message in sorted(self.problems, key=lambda p: p[0] or 0)
        )
        raise ConfigurationError(f"{self.source} has {len(self.problems)} problems:\n{items}")

    def read(self, data: dict[str, Any]) -> Budgets:
        for key in data:
            if key not in ("defaults", "endpoints"):
                self.problem(
                    (key,),
                    f"unknown key {key!r}{_did_you_mean(key, ('defaults', 'endpoints'))}. {_SHAPE}",
                )
        defaults, unlisted = self.read_defaults(data.get("defaults", {}))
        endpoints = self.read_endpoints(data.get("endpoints", {}))
        return Budgets(
            defaults=defaults, unlisted=unlisted, endpoints=endpoints, source=self.source
        )

    def read_defaults(self, table: Any) -> tuple[Limits, str]:
        if not isinstance(table, dict):
            self.problem(("defaults",), f"[defaults] must be a table, not {_kind(table)}. {_SHAPE}")
            return Limits(), "ignore"
        unlisted = table.get("unlisted", "ignore")
        if unlisted not in UNLISTED_POLICIES:
            self.problem(
                ("defaults", "unlisted"),
                f'unlisted must be "ignore" or "fail", not {_shown(unlisted)}.',
            )
            unlisted = "ignore"
        limits = self.read_limits(
            ("defaults",), {k: v for k, v in table.items() if k != "unlisted"}, extra=("unlisted",)
        )
        return limits, str(unlisted)

    def read_endpoints(self, table: Any) -> tuple[EndpointBudget, ...]:
        if not isinstance(table, dict):
            self.problem(
                ("endpoints",),
                f"endpoints must hold one table per endpoint, not {_kind(table)}. {_SHAPE}",
            )
            return ()
        budgets: list[EndpointBudget] = []
        seen: dict[str, str] = {}
        for key, limits in table.items():
            path = ("endpoints", key)
            parsed = self.endpoint(path, key)
            if not isinstance(limits, dict):
                self.problem(
                    path,
                    f"endpoint {key!r} must be a table of limits (queries = 4), not {_kind(limits)}.",
                )
                continue
            if parsed is None:
                continue
            method, route = parsed
            normal = endpoint_key(method, route)
            if normal in seen:
                self.problem(
                    path,
                    f"endpoint {key!r} is listed twice (also as {seen[normal]!r}); merge the two tables.",
                )
                continue
            seen[normal] = key
            budgets.append(
                EndpointBudget(
                    method, route, self.read_limits(path, limits), self.lines.line_of(path)
                )
            )
        return tuple(budgets)

    def endpoint(self, path: tuple[str, ...], key: str) -> tuple[str, str] | None:
        """`"GET api/courses/"` → ("GET", "api/courses/"), or a problem saying how to write it."""
        method, space, route = key.partition(" ")
        example = 'e.g. "GET api/courses/<int:pk>/"'
        if not space or method.upper() not in HTTP_METHODS:
            self.problem(
                path,
                f'endpoint key {key!r} is not "METHOD route" ({example}: an HTTP method, one space, '
                "the route pattern as reports show it).",
            )
            return None
        fixed = route.strip().removeprefix("/")
        suggestion = endpoint_key(method.upper(), normalize_route(fixed) if fixed else fixed)
        if method != method.upper() or route != fixed or re.search(r"\s", route):
            self.problem(path, f"endpoint key {key!r} should be written {suggestion!r}.")
            return None
        if normalize_route(route) != route:
            self.problem(
                path,
                f"endpoint key {key!r} uses a regex; reports name this route {suggestion!r}: rename the table.",
            )
            return None
        return method, route

    def read_limits(
        self, path: tuple[str, ...], table: Mapping[str, Any], extra: tuple[str, ...] = ()
    ) -> Limits:
        values: dict[str, Any] = {}
        for name, value in table.items():
            where = (*path, name)
            if name not in LIMITS:
                known = (*LIMITS, *extra)
                self.problem(
                    where,
                    f"unknown limit {name!r}{_did_you_mean(name, known)}; the limits are {', '.join(LIMITS)}.",
                )
                continue
            error = _limit_error(name, value)
            if error:
                self.problem(where, error)
                continue
            values[name] = int(value) if name in COUNT_LIMITS else float(value)
        return Limits(**values)

    def check_routes(self, budgets: Budgets, routes: Collection[str]) -> None:
        known = set(routes) | {UNMATCHED_ROUTE}
        for budget in budgets.endpoints:
            if budget.route in known:
                continue
            close = difflib.get_close_matches(budget.route, sorted(known), n=1, cutoff=0.6)
            hint = f" (closest: {endpoint_key(budget.method, close[0])!r})" if close else ""
            self.problems.append(
                (
                    budget.line,
                    f"{budget.key!r} names a route the URLconf does not have (any more). Rename the "
                    f"table to the route it became{hint}, or remove it.",
                )
            )


def _limit_error(name: str, value: Any) -> str | None:
    if name in COUNT_LIMITS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{name} must be a whole number of at least 0 (e.g. {name} = 4), not {_shown(value)}."
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        return f"{name} must be milliseconds, a number of at least 0 (e.g. {name} = 50.0), not {_shown(value)}."
    return None


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return _kind(value)
    return repr(value)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return _shown(value)


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _KeyLines:
    """Which line defines a key path, found by scanning the text (tomllib keeps no positions).

    Understands table headers and `key = value` lines with dotted and quoted keys; a value inside
    an inline table or a multi-line string is attributed to the line that opens it.
    """

    def __init__(self, text: str) -> None:
        self.first: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                inner = line.lstrip("[")
                keys = _split_keys(inner, stop="]")
                if keys is not None:
                    table = keys
                    self.first.setdefault(table, number)
                continue
            keys = _split_keys(line, stop="=")
            for end in range(1, len(keys or ()) + 1):
                # A dotted key defines each table on its way: `a."b".c = 1` defines a and a."b".
                self.first.setdefault((*table, *keys[:end]), number)  # type: ignore[index]

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """The line of `path`, or of its longest prefix that has one."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.first:
                return self.first[path[:end]]
        return None


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _split_keys(text: str, *, stop: str) -> tuple[str, ...] | None:
    """`endpoints."GET a/".queries = 1` → ("endpoints", "GET a/", "queries"); None if not a key."""
    keys: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        ch = text[i]
        if ch in "\"'":
            end = _closing_quote(text, i)
            if end < 0:
                return None
            raw = text[i + 1 : end]
            keys.append(_unescape(raw) if ch == '"' else raw)
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if match is None:
                return None
            keys.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return tuple(keys) if i < n and text[i] == stop else None
    return None


def _closing_quote(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _unescape(raw: str) -> str:
    try:
        value: str = tomllib.loads(f'k = "{raw}"')["k"]
    except tomllib.TOMLDecodeError:
        return raw
    return value


# -- writing ------------------------------------------------------------------------------------


def render_budgets(budgets: Budgets, previous: str | None = None) -> str:
    """The file's new text: `previous` with the changed values set (comments, order and every
    table kept), new endpoint tables appended; a commented new file when there is none."""
    doc = tomlkit.parse(previous) if previous else _new_document(budgets)
    endpoints = doc.get("endpoints")
    if endpoints is None:
        endpoints = tomlkit.table(is_super_table=True)
        doc["endpoints"] = endpoints
    for budget in budgets.endpoints:
        table = endpoints.get(budget.key)
        if table is None:
            table = (
                tomlkit.inline_table() if isinstance(endpoints, InlineTable) else tomlkit.table()
            )
            endpoints[budget.key] = table
        for name in LIMITS:
            _set(table, name, getattr(budget.limits, name))
    return tomlkit.dumps(doc)


def _set(table: Any, name: str, value: float | None) -> None:
    current = table.get(name)
    if value is None:
        if current is not None:
            del table[name]
        return
    if current is not None and not isinstance(current, bool) and current == value:
        return  # untouched lines keep their exact text
    new = tomlkit.item(value)
    old = table.item(name) if name in table and hasattr(table, "item") else None
    if isinstance(old, Item) and old.trivia.comment:
        new.trivia.comment_ws = old.trivia.comment_ws
        new.trivia.comment = old.trivia.comment
    table[name] = new


def _new_document(budgets: Budgets) -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    for line in _HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    defaults = tomlkit.table()
    for name, value in budgets.defaults.items().items():
        defaults[name] = value
    defaults["unlisted"] = budgets.unlisted
    defaults["unlisted"].comment('or "fail": every endpoint a run reaches needs a table')
    doc["defaults"] = defaults
    return doc


def write_budgets(
    path: str | os.PathLike[str], budgets: Budgets, *, routes: Collection[str] | None = None
) -> Path:
    """Write `budgets` into the file at `path` (created when missing), atomically.

    The new text is read back before it replaces the file, so a rewrite can never leave a file
    that `load_budgets` refuses.
    """
    target = Path(path)
    previous = target.read_text(encoding="utf-8") if target.exists() else None
    try:
        text = render_budgets(budgets, previous)
    except (TOMLKitError, ValueError) as exc:
        raise ConfigurationError(
            f"{display_path(target)} could not be rewritten ({exc}); it was left as it was."
        ) from None
    written = parse_budgets(text, source=display_path(target), routes=routes)
    if _limits_of(written) != _limits_of(budgets):
        raise ConfigurationError(
            f"{display_path(target)} could not be rewritten faithfully (its layout is unusual); "
            'it was left as it was. Write its endpoint tables as [endpoints."GET api/x/"] headers.'
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _limits_of(budgets: Budgets) -> dict[str, dict[str, float]]:
    return {b.key: b.limits.items() for b in budgets.endpoints}
