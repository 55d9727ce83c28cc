"""Where a request modified its session: the line a write of the session's save is owed to.

Django saves a session when its response goes out (`SessionMiddleware.process_response`), in
library code: the statement's own callsite names no project line. Its cause is the line that
modified the session (`request.session["seen"] = True`, a message stored, a login): every change
goes through the session's `modified` attribute, which is made a data descriptor on `SessionBase`
once per process. It keeps the value where Django keeps it (the instance's `__dict__`), so a
session behaves exactly as before; outside a capture a change costs one ContextVar read. The first
change of a request notes its line on each active capture.
"""

from __future__ import annotations

import logging
import sys
from types import FrameType
from typing import Any

from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture import context
from perftoolkit.middleware.capture.failures import failed
from perftoolkit.middleware.capture.frames import callsite_of, library_path, walk

logger = logging.getLogger("perftoolkit")
# How far out from the query hook a session's save is looked for (Django's ORM save of the session
# row sits some ten frames out).
_SAVE_DEPTH = 40
_SAVE_METHODS = frozenset({"save", "create", "_save"})


class _Modified:
    """`SessionBase.modified`, stored as before, noting the first change inside a capture."""

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__["modified"]
        except KeyError:
            raise AttributeError("modified") from None

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__["modified"] = value
        if not value:
            return
        captures = context.current.get()
        if not captures:
            return
        try:
            waiting = [c for c in captures if c.session_site is None and c.error is None]
            if waiting:
                site = _changed_at(sys._getframe(1), instance)
                for capture in waiting:
                    capture.session_site = site
        except Exception:
            failed("session", captures)


def _changed_at(frame: FrameType | None, session: Any) -> tuple[CallSite, str] | None:
    """The line that changed `session`: the first project line out from the session's own
    methods, or else the first library line (messages stored by a library's middleware)."""
    while frame is not None and frame.f_locals.get("self") is session:
        frame = frame.f_back
    found = walk(frame)
    if found.project is not None:
        return callsite_of(found.project), found.project.f_code.co_filename
    line = found.library
    if line is None:
        return None
    filename = line.f_code.co_filename
    return CallSite(library_path(filename), line.f_lineno, line.f_code.co_name), filename


def saves_session(frame: FrameType | None) -> bool:
    """Whether a statement hooked below `frame` runs inside a session's save."""
    from django.contrib.sessions.backends.base import SessionBase

    depth = 0
    while frame is not None and depth < _SAVE_DEPTH:
        if frame.f_code.co_name in _SAVE_METHODS and isinstance(
            frame.f_locals.get("self"), SessionBase
        ):
            return True
        frame = frame.f_back
        depth += 1
    return False


@context.once
def install_session_tracking() -> None:
    """Make `SessionBase.modified` note where a request changed its session (once per process).
    Without `django.contrib.sessions` importable there is nothing to track."""
    _track_modified()


def _track_modified() -> None:
    try:
        from django.contrib.sessions.backends.base import SessionBase

        if not isinstance(SessionBase.__dict__.get("modified"), _Modified):
            SessionBase.modified = _Modified()  # type: ignore[assignment]
    except Exception:
        logger.warning(
            "perftoolkit: cannot track changes of sessions; a session's save is reported "
            "without the line that changed it",
            exc_info=True,
        )
