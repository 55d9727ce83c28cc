"""The captures active in the current context (a request, a test block); one ContextVar for every
hook. A tuple, because captures nest: a test's budget block around a request the middleware
captures too."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

# Holds capture.QueryCapture objects; typed Any so the hooks need not import the capture module.
current: ContextVar[tuple[Any, ...]] = ContextVar("perftoolkit_captures", default=())
