"""The captures active in the current context (a request, a test block); one ContextVar for every
hook. A tuple, because captures nest: a test's budget block around a request the middleware
captures too."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import setting_changed

# Holds capture.QueryCapture objects; typed Any so the hooks need not import the capture module.
current: ContextVar[tuple[Any, ...]] = ContextVar("perftoolkit_captures", default=())


class PerThread:
    """Whether the calling thread has set its hooks up for the current value of some settings:
    cache and connection objects are per thread, and a new CACHES or DATABASES makes new ones."""

    def __init__(self, *settings: str) -> None:
        self.settings = frozenset(settings)
        self.generation = 0
        self.ever = False  # whether any thread has set up (nothing is hooked before)
        self._local = threading.local()
        setting_changed.connect(self._changed, weak=False)

    def _changed(self, *, setting: str, **kwargs: object) -> None:
        if setting in self.settings:
            self.generation += 1

    def done(self) -> bool:
        return getattr(self._local, "generation", -1) == self.generation

    def mark(self, generation: int) -> None:
        """The calling thread is set up for `generation` (read before the set-up began)."""
        self._local.generation = generation
        self.ever = True


def once(function: Callable[[], None]) -> Callable[[], None]:
    """`function` run the first time the result is called, in whichever thread, and never again
    in this process (a class patched for every capture)."""
    lock = threading.Lock()
    done = False

    @functools.wraps(function)
    def run() -> None:
        nonlocal done
        if done:
            return
        with lock:
            if not done:
                done = True
                function()

    return run
