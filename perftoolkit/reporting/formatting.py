"""Numbers as report text: every figure the HTML and Markdown views show is formatted here.

Templates receive only strings, so what a reader sees is decided (and tested) in Python.
A change carries its direction three ways: an arrow, a sign, and a tone the views colour
(`good`, `bad`, `same`), so the colour is never the only signal.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from perftoolkit.core.latency import LatencyVerdict
from perftoolkit.core.runs.compare import Delta

DASH = "–"
Unit = Literal["count", "ms", "ratio"]
# Characters that would otherwise render as something else, or hide what follows: C0/C1 controls
# (a terminal's escape sequences), format characters (bidi overrides such as U+202E, zero-width
# joiners), line and paragraph separators, surrogates and private use.
_INVISIBLE = frozenset(("Cc", "Cf", "Co", "Cs", "Zl", "Zp"))


def visible(text: str) -> str:
    r"""Project text on one line, shown as it is: line breaks and tabs as spaces, invisible and
    direction-changing characters (a terminal's ESC, U+202E) as `U+XXXX`.

    >>> visible("a\tb\u202ec\x1b[31m\nd")
    'a bU+202EcU+001B[31m d'
    """
    return "".join(_VISIBLE.get(ch) or _shown(ch) for ch in text)


_VISIBLE = dict.fromkeys("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " ")


def _shown(ch: str) -> str:
    return f"U+{ord(ch):04X}" if unicodedata.category(ch) in _INVISIBLE else ch


def count(value: float | None) -> str:
    """26 → "26", 16.5 → "16.5", 1234 → "1,234"."""
    if value is None:
        return DASH
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def ms(value: float | None) -> str:
    """Milliseconds without the unit, for table cells: "3.4", "320", "1,240"."""
    if value is None:
        return DASH
    return f"{value:.1f}" if abs(value) < 10 else f"{value:,.0f}"


def duration(value: float | None) -> str:
    """Milliseconds with a unit a reader expects: "320 ms", "1.24 s"."""
    if value is None:
        return DASH
    if abs(value) >= 1000:
        return f"{value / 1000:.2f}".rstrip("0").rstrip(".") + " s"
    return f"{ms(value)} ms"


def percent(ratio: float | None, digits: int = 1) -> str:
    """0.4865 → "48.6%"."""
    if ratio is None:
        return DASH
    text = f"{ratio * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def seconds(value: float) -> str:
    """A run time: 65 → "1 min 5 s", 3600 → "1 h"."""
    total = round(value)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs or not (hours or minutes) else "")
    return " ".join(p for p in parts if p)


def timestamp(iso: str) -> str:
    """`2026-11-18T11:06:40Z` → `2026-11-18 11:06:40 UTC` (anything else is shown as given)."""
    try:
        moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return iso or DASH
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def elapsed(started: str, finished: str) -> str | None:
    try:
        start = datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ")
        end = datetime.strptime(finished, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return seconds((end - start).total_seconds())


def sort_key(value: float | None) -> str:
    """The `data-sort` attribute of a cell: a plain number, empty for no value (sorted last)."""
    if value is None or math.isnan(value):
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6g}"


@dataclass(frozen=True, slots=True)
class Change:
    """A before → after figure ready to show."""

    before: str
    after: str
    text: str  # "▼ −22", "▲ +26.7%", "=" (unchanged), or "" when a side is missing
    tone: str  # good | bad | same | none
    sort: str  # the signed change, for sorting a table by it
    label: str  # the same for screen readers: "down 22", "up 26.7%"


def change(
    delta: Delta,
    *,
    unit: Unit = "count",
    higher_is_better: bool = False,
    tolerance: float = 0.0,
    neutral: bool = False,
) -> Change:
    """How a figure moved. Latencies move by a percentage and within `tolerance` read as same;
    counts move by their difference; ratios (cache hits) by percentage points. A `neutral`
    figure (how many requests the load test sent) is shown moving but never judged."""
    fmt: Callable[[float | None], str] = (
        percent if unit == "ratio" else ms if unit == "ms" else count
    )
    before, after = fmt(delta.before), fmt(delta.after)
    diff = delta.change
    if diff is None:
        return Change(before, after, "", "none", "", "not comparable")
    if abs(diff) < 1e-9:
        return Change(before, after, "=", "same", "0", "no change")
    up = diff > 0
    arrow, sign, word = ("▲", "+", "up") if up else ("▼", "−", "down")
    if unit == "ms" and delta.ratio is not None:
        amount = percent(abs(delta.ratio))
        within = abs(delta.ratio) <= tolerance
    elif unit == "ratio":
        amount = f"{abs(diff) * 100:.1f} pts"
        within = False
    else:
        amount = ms(abs(diff)) if unit == "ms" else count(abs(diff))
        within = False
    better = up == higher_is_better
    tone = "same" if within or neutral else ("good" if better else "bad")
    return Change(
        before, after, f"{arrow} {sign}{amount}", tone, sort_key(diff), f"{word} {amount}"
    )


# A latency figure's tone is the rank test's verdict on its endpoint, never the size of the move:
# a p95 that doubled on twelve requests may be two slow requests.
VERDICT_TONES = {"slower": "bad", "faster": "good", "same": "same", "not_judged": "unjudged"}


def latency_change(delta: Delta, verdict: LatencyVerdict) -> Change:
    """A latency before → after, toned by the endpoint's verdict."""
    shown = change(delta, unit="ms", neutral=True)
    if shown.tone == "none":
        return shown
    tone = VERDICT_TONES[verdict.status]
    label = shown.label + ("; not judged" if tone == "unjudged" else "")
    return Change(shown.before, shown.after, shown.text, tone, shown.sort, label)


def verdict_text(verdict: LatencyVerdict) -> str:
    """The verdict in a few words, with the ratio of the medians it was made on: "▲ slower
    ×2.06", "= no change shown (×1.12)", "not judged (4 / 6 requests)"."""
    ratio = verdict.median_ratio
    times = f"×{ratio:.2f}" if ratio is not None else ""
    if verdict.status == "slower":
        return f"▲ slower {times}".rstrip()
    if verdict.status == "faster":
        return f"▼ faster {times}".rstrip()
    if verdict.status == "same":
        return f"= no change shown ({times})" if times else "= no change shown"
    if verdict.requests_before or verdict.requests_after:
        return f"not judged ({verdict.requests_before} / {verdict.requests_after} requests)"
    return "not judged (no durations)"


def query_change(delta: Delta, status: str) -> Change:
    """A query count before → after, red or green only when the endpoint's exact query verdict
    (`core.runs.paths`) agrees: a worst request that met a rarer path is shown moving, in grey."""
    shown = change(delta)
    agreed = (status == "more" and shown.tone == "bad") or (
        status == "fewer" and shown.tone == "good"
    )
    if shown.tone in ("none", "same") or agreed:
        return shown
    return Change(shown.before, shown.after, shown.text, "same", shown.sort, shown.label)
