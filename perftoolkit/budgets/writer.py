"""Rewriting a budget file with tomlkit, so its comments, order and untouched lines survive."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perftoolkit.budgets.discovery import display_path
from perftoolkit.budgets.reader import parse_budgets
from perftoolkit.core.budgets.rules import LIMITS, Budgets
from perftoolkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    import tomlkit

_HEADER = """\
Query budgets per endpoint: `perftoolkit budget check --report report.json` (or
`manage.py perf_budget check`, or `pytest --perf-budgets`) fails when an endpoint's worst
request goes over its table. Keys are the method and the route pattern as reports show them.
Written by `perftoolkit budget record`; `perftoolkit budget update` lowers what is now beaten.
Limits: queries and duplicates (per request), db_ms_p95 and latency_ms_p95 (milliseconds)."""


def _require_tomlkit() -> None:
    # Reading needs only the standard library's tomllib; rewriting needs tomlkit (`sql` extra).
    if importlib.util.find_spec("tomlkit") is None:
        raise ConfigurationError(
            "Writing a budget file needs tomlkit: pip install 'perftoolkit[sql]'."
        )


def render_budgets(budgets: Budgets, previous: str | None = None) -> str:
    """The file's new text: `previous` with the changed values set (comments, order and every
    table kept), new endpoint tables appended; a commented new file when there is none."""
    _require_tomlkit()
    import tomlkit
    from tomlkit.items import InlineTable

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
    import tomlkit

    new = tomlkit.item(value)
    old = table.item(name) if name in table and hasattr(table, "item") else None
    trivia = getattr(old, "trivia", None)
    if trivia is not None and trivia.comment:
        new.trivia.comment_ws = trivia.comment_ws
        new.trivia.comment = trivia.comment
    table[name] = new


def _new_document(budgets: Budgets) -> tomlkit.TOMLDocument:
    import tomlkit

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
    _require_tomlkit()
    from tomlkit.exceptions import TOMLKitError

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
