"""Internal failures on the request path: the request goes on as if perftoolkit were absent.

Every hook that runs inside a request (the per-query wrapper, the cache and relation-read
counters, activation, the request's description, the recorder) catches its own exceptions and
calls `failed(place)` from its `except` block. The captures concerned are abandoned (no
detection, no headers; the recording line carries `capture_error`), and the failure is logged
at ERROR once per distinct place: the hook and the line that raised. Repeats go to DEBUG.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger("perftoolkit")
_logged: set[tuple[str, str]] = set()
_lock = threading.Lock()


def failed(place: str, captures: Iterable[Any] = ()) -> None:
    """Call from an `except` block: abandon `captures` and log the failure once per place."""
    for capture in captures:
        if capture.error is None:
            capture.error = place
    origin = _origin(sys.exc_info()[2])
    key = (place, origin)
    if key in _logged:
        logger.debug("perftoolkit: internal error in %s at %s", place, origin, exc_info=True)
        return
    with _lock:
        first = key not in _logged
        _logged.add(key)
    if first:
        logger.error(
            "perftoolkit: internal error in %s at %s; the request goes on unmeasured "
            "(logged once for this place)",
            place,
            origin,
            exc_info=True,
        )


def _origin(tb: Any) -> str:
    """`module:function:line` of the innermost frame of a traceback."""
    if tb is None:
        return "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    module = tb.tb_frame.f_globals.get("__name__", code.co_filename)
    return f"{module}:{code.co_name}:{tb.tb_lineno}"


def reset() -> None:
    """Forget which places were logged (tests)."""
    with _lock:
        _logged.clear()
