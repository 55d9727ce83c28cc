"""The one `PERFTOOLKIT` settings dict, read into a frozen dataclass.

Read through `get_settings()`: cached, and reset when Django's `setting_changed` fires (so
`override_settings(PERFTOOLKIT=...)` works in tests). Unknown keys and wrong types are reported by
the system checks in `checks.py`, never raised here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from functools import _lru_cache_wrapper, cache, lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from django.conf import settings
from django.core.signals import setting_changed

from perftoolkit.core.diagnosis import DEFAULT_DETECTORS

SETTING_NAME = "PERFTOOLKIT"
RECORD_DIR_ENV = "PERFTOOLKIT_RECORD_DIR"

Mode = Literal["off", "log", "header", "raise", "record"]
MODES: tuple[Mode, ...] = get_args(Mode)
# What the recording keeps of SQL parameters for the index adviser (middleware/samples.py).
Samples = Literal["redacted", "on", "off"]
SAMPLES_CHOICES: tuple[Samples, ...] = get_args(Samples)


@dataclass(frozen=True, slots=True, kw_only=True)
class PerfToolkitSettings:
    """Every key of `PERFTOOLKIT`, lower-cased, with its default."""

    mode: Mode = "off"
    record_dir: str | None = None
    nplusone_threshold: int = 3
    duplicate_threshold: int = 2
    detectors: tuple[str, ...] = DEFAULT_DETECTORS
    ignore_paths: tuple[str, ...] = (r"^/static/", r"^/media/", r"^/favicon\.ico$")
    project_root: str | None = None
    ignore_modules: tuple[str, ...] = ()
    raise_on: tuple[str, ...] = ("n_plus_one", "duplicate_query", "write_on_read")
    cache: bool = True
    budgets: str | None = None
    targets: dict[str, float] = field(default_factory=dict)
    samples: Samples = "redacted"
    secret_columns: tuple[str, ...] = ()

    @property
    def recording(self) -> bool:
        """True when requests are written to a record directory, whatever the mode."""
        return bool(self.record_dir)

    @property
    def enabled(self) -> bool:
        return self.mode != "off" or self.recording


KNOWN_KEYS: frozenset[str] = frozenset(f.name.upper() for f in fields(PerfToolkitSettings))
_TUPLE_KEYS = frozenset(
    f.name for f in fields(PerfToolkitSettings) if str(f.type).startswith("tuple")
)


def raw_settings() -> dict[str, Any]:
    """The user's `PERFTOOLKIT` dict as written (empty when absent or not a dict)."""
    value = getattr(settings, SETTING_NAME, {})
    return dict(value) if isinstance(value, dict) else {}


@cache
def get_settings() -> PerfToolkitSettings:
    known: dict[str, Any] = {}
    for key, value in raw_settings().items():
        name = key.lower()
        if key not in KNOWN_KEYS:
            continue
        if name in _TUPLE_KEYS and isinstance(value, list | tuple):
            value = tuple(value)
        if name in ("record_dir", "project_root", "budgets") and isinstance(value, os.PathLike):
            value = os.fspath(value)
        known[name] = value
    env_dir = os.environ.get(RECORD_DIR_ENV)
    if env_dir:
        known["record_dir"] = env_dir
    if "project_root" not in known:
        base_dir = getattr(settings, "BASE_DIR", None)
        known["project_root"] = os.fspath(base_dir) if base_dir else os.getcwd()
    return PerfToolkitSettings(**known)


def project_root() -> Path:
    """The directory file paths in findings are relative to."""
    return Path(get_settings().project_root or os.getcwd()).resolve()


_T = TypeVar("_T")
_derived: list[Callable[[], None]] = []


def settings_cache(
    maxsize: int | None = None,
) -> Callable[[Callable[..., _T]], _lru_cache_wrapper[_T]]:
    """`functools.lru_cache` for a function whose answer depends on the settings (a file's
    classification depends on IGNORE_MODULES, a relative path on PROJECT_ROOT): emptied
    whenever the settings are read again."""

    def decorate(function: Callable[..., _T]) -> _lru_cache_wrapper[_T]:
        cached = lru_cache(maxsize)(function)
        _derived.append(cached.cache_clear)
        return cached

    return decorate


def on_settings_reset(callback: Callable[[], None]) -> None:
    """Call `callback` whenever the settings are read again (for caches kept by hand)."""
    _derived.append(callback)


def reset_settings() -> None:
    """Forget the cached settings and every cache derived from them (after changing the
    environment, e.g. in tests; Django's `setting_changed` does it for `override_settings`)."""
    get_settings.cache_clear()
    for clear in _derived:
        clear()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in (SETTING_NAME, "BASE_DIR"):
        reset_settings()


setting_changed.connect(_on_setting_changed)


_mode_override: ContextVar[Mode | None] = ContextVar("perftoolkit_mode", default=None)


def current_mode() -> Mode:
    """The MODE for the current context: a test's `override_mode()` wins over the setting."""
    return _mode_override.get() or get_settings().mode


@contextmanager
def override_mode(mode: Mode) -> Iterator[None]:
    """Run a block (a test, a request made by the test client) with another MODE."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    token = _mode_override.set(mode)
    try:
        yield
    finally:
        _mode_override.reset(token)
