"""The one `PERFTOOLKIT` settings dict, read into a frozen dataclass, every value checked.

Read through `get_settings()`: cached, and reset when Django's `setting_changed` fires (so
`override_settings(PERFTOOLKIT=...)` works in tests). Each key has one rule in `RULES` (its type,
range, choices, a file that must exist); `settings_problems()` applies them. The system checks
(`checks.py`) report every problem; `get_settings()` runs with what is valid — a value of the wrong
type falls back to its default, an IGNORE_PATHS entry that is not a regular expression is left
out — and logs one line per problem, because under gunicorn no system check runs and a typo in a
setting must never turn a request into a 500. Regular expressions are compiled here, once per load.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from functools import _lru_cache_wrapper, cache, lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from django.conf import settings
from django.core.signals import setting_changed

from perftoolkit.core.diagnosis import DEFAULT_DETECTORS
from perftoolkit.core.findings import FindingKind
from perftoolkit.core.runs.targets import Targets

logger = logging.getLogger("perftoolkit")

SETTING_NAME = "PERFTOOLKIT"
RECORD_DIR_ENV = "PERFTOOLKIT_RECORD_DIR"

Mode = Literal["off", "log", "header", "raise", "record"]
MODES: tuple[Mode, ...] = get_args(Mode)
# The route keyers on by default (`perftoolkit.urlconf`): Wagtail pages by page class.
DEFAULT_ROUTE_KEYERS: tuple[str, ...] = ("perftoolkit.urlconf.wagtail_page_route",)
# Record lines held before one write when RECORD_BUFFER is not set: a write per request costs more
# than the rest of recording on a query-free request (`benchmarks/README.md`).
DEFAULT_RECORD_BUFFER = 65536
FINDING_KINDS: tuple[str, ...] = get_args(FindingKind)
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
    volatile: tuple[str, ...] = ()  # what perf_fix removes from HTML/text before comparing
    # Ignore rules (`core.diagnosis.ignore`), as written: validated by the system checks.
    ignore: tuple[Any, ...] = ()
    # Dotted paths of `(request, resolver_match) -> route key | None` (`perftoolkit.urlconf`).
    route_keyers: tuple[str, ...] = DEFAULT_ROUTE_KEYERS
    # The fraction of requests captured and recorded (decided once per request, before any
    # capture work), and the duration past which a request that was not sampled is recorded too.
    sample_rate: float = 1.0
    slow_request_ms: float | None = None
    # Bytes of record lines held in memory before one write (0: each line written as its request
    # ends). Held lines are written within a second, at exit and before a fork. None (not set):
    # DEFAULT_RECORD_BUFFER for a WSGI request, 0 for an ASGI one (uvicorn ends its process by the
    # signal that stopped it, and exit handlers do not run then).
    record_buffer: int | None = None
    # Derived when the settings load (not keys): IGNORE_PATHS as one compiled pattern, and the
    # bytes of lines held for a WSGI and for an ASGI request (RECORD_BUFFER, or its default).
    ignore_pattern: re.Pattern[str] | None = field(init=False, default=None, compare=False)
    held_bytes: int = field(init=False, default=DEFAULT_RECORD_BUFFER, compare=False)
    held_bytes_asgi: int = field(init=False, default=0, compare=False)

    def __post_init__(self) -> None:
        valid = [p for p in self.ignore_paths if _compiles(p)]
        pattern = re.compile("|".join(f"(?:{p})" for p in valid)) if valid else None
        object.__setattr__(self, "ignore_pattern", pattern)
        if self.record_buffer is not None:
            object.__setattr__(self, "held_bytes", self.record_buffer)
            object.__setattr__(self, "held_bytes_asgi", self.record_buffer)

    @property
    def recording(self) -> bool:
        """True when requests are written to a record directory, whatever the mode."""
        return bool(self.record_dir)

    @property
    def enabled(self) -> bool:
        return self.mode != "off" or self.recording

    def ignores(self, path: str) -> bool:
        """Whether IGNORE_PATHS excludes `path` from measurement."""
        return self.ignore_pattern is not None and self.ignore_pattern.search(path) is not None


KNOWN_KEYS: frozenset[str] = frozenset(
    f.name.upper() for f in fields(PerfToolkitSettings) if f.init
)


# -- the rules: one per key ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingProblem:
    """What is wrong with one key: a system check message (`id`), and whether the value (or the
    entry) is left out at run time."""

    key: str
    message: str
    hint: str
    id: str
    ignored: bool = False
    warning: bool = False  # a warning, not an error, in the system checks


@dataclass(frozen=True, slots=True)
class Checked:
    """A rule's answer: the value to run with (`_DEFAULT`: the key's default) and the problems."""

    value: Any
    problems: tuple[SettingProblem, ...] = ()


_DEFAULT: Any = object()
Rule = Callable[[str, Any, bool], Checked]  # (key, value, look at the filesystem) → Checked


def _name(key: str) -> str:
    return f"{SETTING_NAME}[{key!r}]"


def _did_you_mean(value: object, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    listed = f"Use one of: {', '.join(repr(o) for o in options)}."
    return f"Did you mean {close[0]!r}? {listed}" if close else listed


def _type_error(key: str, value: Any, wanted: str, example: str) -> Checked:
    problem = SettingProblem(
        key,
        f"{_name(key)} must be {wanted}, not {type(value).__name__} {value!r}; "
        "its default is used instead.",
        f"For example {example}.",
        "perftoolkit.E011",
        ignored=True,
    )
    return Checked(_DEFAULT, (problem,))


def choice(options: tuple[str, ...], *, id: str) -> Rule:
    def rule(key: str, value: Any, filesystem: bool) -> Checked:
        if isinstance(value, str) and value in options:
            return Checked(value)
        problem = SettingProblem(
            key,
            f"{_name(key)} is {value!r}; its default is used instead.",
            _did_you_mean(value, options),
            id,
            ignored=True,
        )
        return Checked(_DEFAULT, (problem,))

    return rule


def integer(minimum: int, *, id: str) -> Rule:
    def rule(key: str, value: Any, filesystem: bool) -> Checked:
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return Checked(value)
        problem = SettingProblem(
            key,
            f"{_name(key)} must be an integer of at least {minimum}, not {value!r}; its default "
            "is used instead.",
            f'For example "{key}": {minimum + 1}.',
            id,
            ignored=True,
        )
        return Checked(_DEFAULT, (problem,))

    return rule


def number(minimum: float, maximum: float, *, id: str) -> Rule:
    """An int or float from `minimum` to `maximum` (a rate, a duration in ms).

    >>> rule = number(0, 1, id="perftoolkit.E011")
    >>> rule("RATE", 0.25, False).value, rule("RATE", 2, False).problems[0].message
    (0.25, "PERFTOOLKIT['RATE'] must be a number from 0 to 1, not 2; its default is used instead.")
    """

    def rule(key: str, value: Any, filesystem: bool) -> Checked:
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and minimum <= value <= maximum
        ):
            return Checked(value)
        problem = SettingProblem(
            key,
            f"{_name(key)} must be a number from {minimum:.15g} to {maximum:.15g}, not {value!r}; "
            "its default is used instead.",
            f'For example "{key}": {maximum:.15g}.',
            id,
            ignored=True,
        )
        return Checked(_DEFAULT, (problem,))

    return rule


def boolean(key: str, value: Any, filesystem: bool) -> Checked:
    if isinstance(value, bool):
        return Checked(value)
    return _type_error(key, value, "True or False", f'"{key}": False')


def strings(key: str, value: Any, filesystem: bool) -> Checked:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return Checked(tuple(value))
    problem = SettingProblem(
        key,
        f"{_name(key)} must be a list of strings, not {value!r}; its default is used instead.",
        f'For example "{key}": [...] with one string per entry.',
        "perftoolkit.E005",
        ignored=True,
    )
    return Checked(_DEFAULT, (problem,))


def entries(key: str, value: Any, filesystem: bool) -> Checked:
    """A list of entries whose own shape another check reads (IGNORE's rules: E014)."""
    if isinstance(value, list | tuple):
        return Checked(tuple(value))
    return _type_error(key, value, "a list", f'"{key}": [...]')


def regexes(key: str, value: Any, filesystem: bool) -> Checked:
    """A list of regular expressions; an entry that does not compile is left out."""
    checked = strings(key, value, filesystem)
    if checked.value is _DEFAULT:
        return checked
    problems = []
    for pattern in checked.value:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(
                SettingProblem(
                    key,
                    f"{_name(key)} entry {pattern!r} is not a regular expression ({exc}); it is "
                    "ignored.",
                    r'Escape special characters, e.g. r"^/static/" or r"^/api/\(v1\)/".',
                    "perftoolkit.E007",
                    ignored=True,
                )
            )
    valid = tuple(p for p in checked.value if _compiles(p))
    return Checked(valid, tuple(problems))


def finding_kinds(key: str, value: Any, filesystem: bool) -> Checked:
    """Finding kinds. A name close to a known kind is a typo; another unknown name may be a kind
    the project's own detectors write, so it is only flagged when none are configured."""
    checked = strings(key, value, filesystem)
    if checked.value is _DEFAULT:
        return checked
    own_detectors = set(raw_settings().get("DETECTORS") or DEFAULT_DETECTORS) - set(
        DEFAULT_DETECTORS
    )
    problems = []
    for kind in checked.value:
        if kind in FINDING_KINDS:
            continue
        typo = difflib.get_close_matches(kind, FINDING_KINDS, n=1, cutoff=0.6)
        if typo or not own_detectors:
            problems.append(
                SettingProblem(
                    key,
                    f"{_name(key)} names {kind!r}, which is not a finding kind, so it never "
                    "matches.",
                    _did_you_mean(kind, FINDING_KINDS),
                    "perftoolkit.E012",
                )
            )
    return Checked(checked.value, tuple(problems))


def path(kind: Literal["dir", "file"], *, must_exist: bool, create_hint: str = "") -> Rule:
    """A path (a string or os.PathLike). `must_exist`: a missing one is reported (a warning for a
    file a command creates, an error for a directory) but still used."""

    def rule(key: str, value: Any, filesystem: bool) -> Checked:
        if value is None:
            return Checked(None)
        if not isinstance(value, str | os.PathLike) or not os.fspath(value):
            return _type_error(key, value, "a path (a string)", f'"{key}": BASE_DIR / "…"')
        text = os.fspath(value)
        if not isinstance(text, str):
            return _type_error(key, value, "a path (a string)", f'"{key}": BASE_DIR / "…"')
        problems: tuple[SettingProblem, ...] = ()
        if filesystem:
            problems = _path_problems(key, Path(text), kind, must_exist, create_hint)
        return Checked(text, problems)

    return rule


def _path_problems(
    key: str, where: Path, kind: str, must_exist: bool, create_hint: str
) -> tuple[SettingProblem, ...]:
    if where.exists() and where.is_dir() != (kind == "dir"):
        wanted = "a directory" if kind == "dir" else "a file"
        return (
            SettingProblem(
                key,
                f"{_name(key)} is {str(where)!r}, which exists and is not {wanted}.",
                f"Point {key} at {wanted}.",
                "perftoolkit.E008" if key == "RECORD_DIR" else "perftoolkit.E013",
            ),
        )
    if must_exist and not where.exists():
        shown = where if where.is_absolute() else f"{where} (from {Path.cwd()})"
        return (
            SettingProblem(
                key,
                f"{_name(key)} names {shown}, which does not exist.",
                create_hint or f"Create it, or correct {key}.",
                "perftoolkit.W105" if kind == "file" else "perftoolkit.E013",
                warning=kind == "file",
            ),
        )
    return ()


def targets(key: str, value: Any, filesystem: bool) -> Checked:
    if not isinstance(value, Mapping):
        problem = f" must be a dict, not {type(value).__name__}"
    else:
        try:
            Targets.from_dict(value)
        except ValueError as exc:
            problem = f": {exc}"
        else:
            return Checked(dict(value))
    return Checked(
        _DEFAULT,
        (
            SettingProblem(
                key,
                f"{_name(key)}{problem}.",
                'For example "TARGETS": {"p95_ms": 500, "queries": 5}; the keys are '
                "p50_ms, p95_ms, p99_ms, queries and cache_hit_ratio.",
                "perftoolkit.E009",
                ignored=True,
            ),
        ),
    )


# A key added to PerfToolkitSettings adds its rule here (tests/test_conf.py holds them equal).
RULES: dict[str, Rule] = {
    "MODE": choice(MODES, id="perftoolkit.E003"),
    "RECORD_DIR": path("dir", must_exist=False),
    "NPLUSONE_THRESHOLD": integer(2, id="perftoolkit.E004"),
    "DUPLICATE_THRESHOLD": integer(2, id="perftoolkit.E004"),
    "DETECTORS": strings,  # importable? checked by checks.py (E006): it imports the modules
    "IGNORE_PATHS": regexes,
    "PROJECT_ROOT": path("dir", must_exist=True),
    "IGNORE_MODULES": strings,
    "RAISE_ON": finding_kinds,
    "CACHE": boolean,
    "BUDGETS": path(
        "file",
        must_exist=True,
        create_hint="Record it first: `perftoolkit budget record --report report.json`.",
    ),
    "TARGETS": targets,
    "VOLATILE": regexes,
    "IGNORE": entries,  # each rule's keys and kinds: checks.check_interop (E014)
    "ROUTE_KEYERS": strings,  # importable? checked by checks.check_interop (E015)
    "SAMPLES": choice(SAMPLES_CHOICES, id="perftoolkit.E016"),
    "SECRET_COLUMNS": strings,
    "SAMPLE_RATE": number(0, 1, id="perftoolkit.E017"),
    "SLOW_REQUEST_MS": number(0, 86_400_000, id="perftoolkit.E017"),
    "RECORD_BUFFER": integer(0, id="perftoolkit.E018"),
}


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


# -- reading the settings -------------------------------------------------------------------


def raw_settings() -> dict[str, Any]:
    """The user's `PERFTOOLKIT` dict as written (empty when absent or not a dict)."""
    value = getattr(settings, SETTING_NAME, {})
    return dict(value) if isinstance(value, dict) else {}


def checked_settings(*, filesystem: bool) -> dict[str, Checked]:
    """Every known key the user set, through its rule (keys without a rule pass unchecked)."""
    checked = {}
    for key, value in raw_settings().items():
        if key not in KNOWN_KEYS:
            continue
        rule = RULES.get(key)
        checked[key] = rule(key, value, filesystem) if rule else Checked(value)
    return checked


def settings_problems(*, filesystem: bool = True) -> list[SettingProblem]:
    """What is wrong with the known keys' values, in the order the user wrote them."""
    return [p for c in checked_settings(filesystem=filesystem).values() for p in c.problems]


@cache
def get_settings() -> PerfToolkitSettings:
    known: dict[str, Any] = {}
    for key, checked in checked_settings(filesystem=False).items():
        for problem in checked.problems:
            log = logger.error if problem.ignored else logger.warning
            log("perftoolkit: %s %s (%s)", problem.message, problem.hint, problem.id)
        if checked.value is not _DEFAULT:
            known[key.lower()] = checked.value
    env_dir = os.environ.get(RECORD_DIR_ENV)
    if env_dir:
        known["record_dir"] = env_dir
    if known.get("project_root") is None:
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
    # ROOT_URLCONF and LANGUAGES: how routes are keyed (`urlconf.without_language`)
    if setting in (SETTING_NAME, "BASE_DIR", "ROOT_URLCONF", "LANGUAGES"):
        reset_settings()


setting_changed.connect(_on_setting_changed)


# A test's `override_mode()`; the middleware reads it beside the settings it already holds.
mode_override: ContextVar[Mode | None] = ContextVar("perftoolkit_mode", default=None)


def current_mode() -> Mode:
    """The MODE for the current context: a test's `override_mode()` wins over the setting."""
    return mode_override.get() or get_settings().mode


@contextmanager
def override_mode(mode: Mode) -> Iterator[None]:
    """Run a block (a test, a request made by the test client) with another MODE."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    token = mode_override.set(mode)
    try:
        yield
    finally:
        mode_override.reset(token)


def middleware_installed(dotted: str, middleware: list[str] | None = None) -> bool:
    """The middleware class at `dotted`, or a subclass of it (a project's own), is in
    `middleware` (default: settings.MIDDLEWARE)."""
    from django.utils.module_loading import import_string

    entries = list(middleware if middleware is not None else settings.MIDDLEWARE)
    if dotted in entries:
        return True
    base = import_string(dotted)
    for entry in entries:
        try:
            found = import_string(entry)
        except ImportError as exc:  # Django's own check reports it; here it is no match
            logger.debug("perftoolkit: MIDDLEWARE entry %s cannot be imported (%s)", entry, exc)
            continue
        if isinstance(found, type) and issubclass(found, base):
            return True
    return False
