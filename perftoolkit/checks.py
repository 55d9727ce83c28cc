"""System checks for the PERFTOOLKIT setting and the middleware (ids are stable; see README)."""

from __future__ import annotations

import difflib
import os
import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from perftoolkit.conf import (
    KNOWN_KEYS,
    MODES,
    SAMPLES_CHOICES,
    SETTING_NAME,
    get_settings,
    raw_settings,
)
from perftoolkit.core.diagnosis import DetectorImportError, load_detector
from perftoolkit.core.runs.targets import Targets

MIDDLEWARE_PATH = "perftoolkit.middleware.QueryBudgetMiddleware"
_POSITIVE_INT_KEYS = ("NPLUSONE_THRESHOLD", "DUPLICATE_THRESHOLD")
_LIST_KEYS = ("DETECTORS", "IGNORE_PATHS", "IGNORE_MODULES", "RAISE_ON", "SECRET_COLUMNS")
_PRODUCTION_HINTS = re.compile(r"prod|live|deploy|release", re.IGNORECASE)


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    value = getattr(settings, SETTING_NAME, {})
    if not isinstance(value, dict):
        return [
            Error(
                f"{SETTING_NAME} must be a dict, not {type(value).__name__}.",
                hint=f'Write it as {SETTING_NAME} = {{"MODE": "log"}}.',
                id="perftoolkit.E001",
            )
        ]
    errors: list[CheckMessage] = []
    for key in value:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), sorted(KNOWN_KEYS), n=1)
            hint = (
                f"Did you mean {close[0]!r}?"
                if close
                else f"Known keys: {', '.join(sorted(KNOWN_KEYS))}."
            )
            errors.append(
                Error(f"Unknown key {key!r} in {SETTING_NAME}.", hint=hint, id="perftoolkit.E002")
            )
    mode = value.get("MODE", "off")
    if mode not in MODES:
        errors.append(
            Error(
                f"{SETTING_NAME}['MODE'] is {mode!r}.",
                hint=f"Use one of: {', '.join(repr(m) for m in MODES)}.",
                id="perftoolkit.E003",
            )
        )
    for key in _POSITIVE_INT_KEYS:
        if key in value and (
            not isinstance(value[key], int) or isinstance(value[key], bool) or value[key] < 2
        ):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be an integer of at least 2, not {value[key]!r}.",
                    hint=f'For example "{key}": 3.',
                    id="perftoolkit.E004",
                )
            )
    for key in _LIST_KEYS:
        if key in value and not (
            isinstance(value[key], list | tuple) and all(isinstance(v, str) for v in value[key])
        ):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be a list of strings.",
                    hint=f'For example "{key}": [...] with one string per entry.',
                    id="perftoolkit.E005",
                )
            )
    samples = value.get("SAMPLES", "redacted")
    if samples not in SAMPLES_CHOICES:
        errors.append(
            Error(
                f"{SETTING_NAME}['SAMPLES'] is {samples!r}.",
                hint=f"Use one of: {', '.join(repr(c) for c in SAMPLES_CHOICES)} (what the "
                "recording keeps of SQL parameters for the index adviser).",
                id="perftoolkit.E020",
            )
        )
    if "TARGETS" in value:
        errors += _check_targets(value["TARGETS"])
    if not errors:
        errors += _check_detectors() + _check_patterns() + _check_dirs()
    return errors


def _check_targets(targets: object) -> list[CheckMessage]:
    if not isinstance(targets, dict):
        problem = f" must be a dict, not {type(targets).__name__}"
    else:
        try:
            Targets.from_dict(targets)
        except ValueError as exc:
            problem = f": {exc}"
        else:
            return []
    return [
        Error(
            f"{SETTING_NAME}['TARGETS']{problem}.",
            hint='For example "TARGETS": {"p95_ms": 500, "queries": 5}; the keys are '
            "p50_ms, p95_ms, p99_ms, queries and cache_hit_ratio.",
            id="perftoolkit.E009",
        )
    ]


def _check_detectors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for path in get_settings().detectors:
        try:
            load_detector(path)
        except DetectorImportError as exc:
            errors.append(
                Error(
                    f"{exc} It is listed in {SETTING_NAME}['DETECTORS'].",
                    hint="Give the dotted path of a function taking (profile, options).",
                    id="perftoolkit.E006",
                )
            )
    return errors


def _check_patterns() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for pattern in get_settings().ignore_paths:
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.append(
                Error(
                    f"{SETTING_NAME}['IGNORE_PATHS'] entry {pattern!r} is not a regular expression: {exc}.",
                    hint=r'Escape special characters, e.g. r"^/static/".',
                    id="perftoolkit.E007",
                )
            )
    return errors


def _check_dirs() -> list[CheckMessage]:
    record_dir = get_settings().record_dir
    if record_dir and os.path.exists(record_dir) and not os.path.isdir(record_dir):
        return [
            Error(
                f"The record directory {record_dir!r} exists and is not a directory.",
                hint="Point PERFTOOLKIT_RECORD_DIR (or RECORD_DIR) at a directory.",
                id="perftoolkit.E008",
            )
        ]
    return []


def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    conf = get_settings()
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE_PATH not in middleware:
        if "MODE" in raw_settings() and conf.mode != "off":
            return [
                Warning(
                    f"{SETTING_NAME}['MODE'] is {conf.mode!r} but the middleware is not installed, "
                    "so nothing is captured.",
                    hint=f'Add "{MIDDLEWARE_PATH}" first in MIDDLEWARE.',
                    id="perftoolkit.W101",
                )
            ]
        return []
    if middleware.index(MIDDLEWARE_PATH) != 0:
        return [
            Warning(
                f"{MIDDLEWARE_PATH} is not first in MIDDLEWARE: queries made by the middleware "
                "listed before it are not counted.",
                hint=f'Move "{MIDDLEWARE_PATH}" to the top of MIDDLEWARE.',
                id="perftoolkit.W102",
            )
        ]
    return []


def check_production_mode(**kwargs: Any) -> list[CheckMessage]:
    conf = get_settings()
    if settings.DEBUG or not conf.enabled:
        return []
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "") or str(
        getattr(settings, "SETTINGS_MODULE", "")
    )
    hosts = [
        h
        for h in getattr(settings, "ALLOWED_HOSTS", [])
        if h not in ("localhost", "127.0.0.1", "[::1]", "testserver")
    ]
    if not (_PRODUCTION_HINTS.search(module) or hosts):
        return []
    return [
        Warning(
            f"perftoolkit is enabled (MODE {conf.mode!r}"
            + (", recording" if conf.recording else "")
            + f") with DEBUG=False in {module or 'these settings'}, which look like production.",
            hint=f'Set {SETTING_NAME} = {{"MODE": "off"}} in production settings, or silence '
            "perftoolkit.W103 if you mean to sample production traffic.",
            id="perftoolkit.W103",
        )
    ]


def check_capture(**kwargs: Any) -> list[CheckMessage]:
    """The parts of the capture that cannot work on the Django that runs (perftoolkit.E010)."""
    import django

    from perftoolkit.middleware.capture import compat

    return [
        Error(
            f"perftoolkit cannot capture everything on Django {django.get_version()}: {problem}.",
            hint="Query counts, duplicates and budgets still work; the findings that need this "
            "part lack the relation or the fix. Upgrade perftoolkit, or report this Django "
            "version at the project's issue tracker.",
            id="perftoolkit.E010",
        )
        for problem in compat.problems()
    ]
