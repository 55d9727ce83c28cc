"""The project's ignore rules: `PERFTOOLKIT["IGNORE"]`, nplusone's `NPLUSONE_WHITELIST` read as
the same rules, and inline `# perftoolkit: ignore[…]` comments on callsite lines.

`finding_filter()` is the one filter the middleware, the report build (record directories and
silk imports) and the pytest plugin apply to detector output (`core.diagnosis.ignore`).
"""

from __future__ import annotations

import linecache
import logging
import os
from pathlib import Path
from typing import Any, get_args

from django.core.signals import setting_changed

from perftoolkit.conf import get_settings, on_settings_reset, project_root, settings_cache
from perftoolkit.core.diagnosis.ignore import (
    IgnoreFilter,
    IgnoreRule,
    IgnoreRuleError,
    nplusone_rules,
    parse_rules,
)
from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import FindingKind

logger = logging.getLogger("perftoolkit")
IGNORE_SOURCE = "PERFTOOLKIT['IGNORE']"
NPLUSONE_SETTING = "NPLUSONE_WHITELIST"
FINDING_KINDS: tuple[str, ...] = get_args(FindingKind)


def setting_rules() -> tuple[IgnoreRule, ...]:
    """`PERFTOOLKIT["IGNORE"]` as rules (`IgnoreRuleError` for a malformed entry)."""
    return parse_rules(list(get_settings().ignore), source=IGNORE_SOURCE)


def whitelist_rules() -> tuple[IgnoreRule, ...]:
    """nplusone's `NPLUSONE_WHITELIST` as rules (empty without it)."""
    entries = _django_setting(NPLUSONE_SETTING)
    return () if entries is None else nplusone_rules(entries, source=NPLUSONE_SETTING)


def finding_filter() -> IgnoreFilter:
    """The project's rules (malformed ones are left out: the system checks name them) and its
    inline comments, read from files under the project root. Without Django settings (the
    `perftoolkit` CLI outside a project) only inline comments, under the working directory."""
    from django.conf import settings

    if not settings.configured:
        return IgnoreFilter((), line_at=_line_reader(Path(os.getcwd()).resolve()))
    return _project_filter()


@settings_cache(maxsize=1)
def _project_filter() -> IgnoreFilter:
    rules: list[IgnoreRule] = []
    for read in (setting_rules, whitelist_rules):
        try:
            rules.extend(read())
        except IgnoreRuleError as exc:
            logger.warning("perftoolkit: ignore rules not applied: %s", exc)
    return IgnoreFilter(tuple(rules), line_at=_line_reader(project_root()))


def _line_reader(root: Path) -> Any:
    def line_at(site: CallSite) -> str | None:
        path = Path(site.file)
        full = os.fspath(path if path.is_absolute() else root / path)
        linecache.checkcache(full)  # a file edited under runserver is read again
        return linecache.getline(full, site.line) or None

    return line_at


def _django_setting(name: str) -> Any:
    from django.conf import settings

    return getattr(settings, name, None) if settings.configured else None


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == NPLUSONE_SETTING:
        _project_filter.cache_clear()


setting_changed.connect(_on_setting_changed)
on_settings_reset(linecache.clearcache)
