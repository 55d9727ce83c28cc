"""django-querycount's thresholds as default budgets, for projects without a budget file yet.

`QUERYCOUNT = {"THRESHOLDS": {"HIGH": 200, ...}}` is where querycount paints a request red: read
here as `[defaults] queries = 200`, used only when no budget file exists, and said so each time
(the gate's output, the system check perftoolkit.W107) with what to write instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perftoolkit.budgets.discovery import BUDGET_FILE
from perftoolkit.core.budgets.rules import Budgets, Limits

SETTING = "QUERYCOUNT"
SOURCE = "QUERYCOUNT['THRESHOLDS']['HIGH']"
# querycount's own default when THRESHOLDS leaves HIGH out.
DEFAULT_HIGH = 200


def querycount_high() -> int | None:
    """`QUERYCOUNT['THRESHOLDS']['HIGH']` (querycount's 200 when THRESHOLDS leaves it out), or None
    without a QUERYCOUNT setting or with a value that is not a whole number."""
    value = _setting()
    thresholds = value.get("THRESHOLDS") if isinstance(value, dict) else None
    if not isinstance(thresholds, dict):
        return None
    high = thresholds.get("HIGH", DEFAULT_HIGH)
    if isinstance(high, bool) or not isinstance(high, int) or high < 0:
        return None
    return high


def querycount_budgets() -> Budgets | None:
    """The default budgets querycount's threshold stands for, or None without one."""
    high = querycount_high()
    if high is None:
        return None
    return Budgets(defaults=Limits(queries=high), source=SOURCE)


def querycount_fallback(path: Path, searched: Sequence[Path]) -> Budgets | None:
    """querycount's budgets when `path` (what the search found) is missing and is only the
    default place of a budget file nothing named (no --budgets, setting or pyproject.toml
    pointer): `searched[0] / perf-budgets.toml`."""
    if path.exists() or not searched or path != searched[0] / BUDGET_FILE:
        return None
    return querycount_budgets()


def querycount_hint(high: int) -> str:
    """The one line that says where a budget came from and what to write instead."""
    return (
        f"No perf-budgets.toml: every endpoint is judged against django-querycount's {SOURCE} = "
        f"{high} queries. Move it to perf-budgets.toml ([defaults] queries = {high}), or record "
        "real budgets with `perftoolkit budget record --report report.json`."
    )


def _setting() -> Any:
    from django.conf import settings

    return getattr(settings, SETTING, None) if settings.configured else None


def check_querycount_budgets(**kwargs: Any) -> list[Any]:
    """perftoolkit.W107: budgets come from QUERYCOUNT because no budget file exists."""
    from django.core.checks import Warning

    from perftoolkit.budgets.gate import project_budgets
    from perftoolkit.exceptions import ConfigurationError

    high = querycount_high()
    if high is None:
        return []
    try:
        budgets = project_budgets()
    except ConfigurationError:
        return []  # a malformed file: the gate reports it with its line
    if budgets is None or budgets.source != SOURCE:
        return []
    return [
        Warning(
            f"No perf-budgets.toml: budgets come from django-querycount's {SOURCE} = {high}.",
            hint=f"Write perf-budgets.toml with [defaults] queries = {high}, or record real "
            "budgets with `python manage.py perf_budget record --report report.json`.",
            id="perftoolkit.W107",
        )
    ]
