"""Reading a budget file strictly: every problem is reported with its line and the fix."""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from perftoolkit.budgets.discovery import BUDGET_FILE, display_path
from perftoolkit.budgets.keylines import KeyLines
from perftoolkit.core.budgets.rules import (
    COUNT_LIMITS,
    LIMITS,
    UNLISTED_POLICIES,
    UNMATCHED_ROUTE,
    Budgets,
    EndpointBudget,
    Limits,
    endpoint_key,
)
from perftoolkit.core.routes import ROOT_ROUTE, normalize_route, route_key
from perftoolkit.exceptions import ConfigurationError

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
_SHAPE = (
    'A budget file has a [defaults] table and one [endpoints."METHOD route"] table per endpoint, '
    'e.g. [endpoints."GET api/courses/"] with queries = 4.'
)


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
        self.lines = KeyLines(text)
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
        # The site root is "/" (as the middleware records it); any other route has no leading "/".
        stripped = route.strip()
        fixed = ROOT_ROUTE if stripped in ("", ROOT_ROUTE) else stripped.removeprefix("/")
        suggestion = endpoint_key(method.upper(), route_key(fixed))
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
