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
    RECORD_DIR_ENV,
    SETTING_NAME,
    get_settings,
    raw_settings,
    settings_problems,
)
from perftoolkit.core.diagnosis import DetectorImportError, load_detector

MIDDLEWARE_PATH = "perftoolkit.middleware.QueryBudgetMiddleware"
MIDDLEWARE_PATHS = (MIDDLEWARE_PATH, "perftoolkit.middleware.query_budget.QueryBudgetMiddleware")
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
    for problem in settings_problems():
        kind = Warning if problem.warning else Error
        errors.append(kind(problem.message, hint=problem.hint, id=problem.id))
    if "DETECTORS" not in {p.key for p in settings_problems(filesystem=False)}:
        errors += _check_detectors()
    return errors + _check_record_dir_env()


def check_setting_name(**kwargs: Any) -> list[CheckMessage]:
    """A setting whose name is close to PERFTOOLKIT (PERF_TOOLKIT, PERFTOOLKIT_SETTINGS …) is
    almost certainly meant for it, and perftoolkit would silently run with its defaults."""
    wanted = SETTING_NAME.replace("_", "")
    near = []
    for name in dir(settings):
        if name == SETTING_NAME or not name.isupper():
            continue
        squashed = name.replace("_", "")
        similar = difflib.SequenceMatcher(None, squashed, wanted).ratio() >= 0.85
        if squashed == wanted or similar or squashed.startswith(wanted):
            near.append(name)
    return [
        Warning(
            f"The setting {name} is not read by perftoolkit, which reads {SETTING_NAME}.",
            hint=f"Did you mean {SETTING_NAME}? Rename {name} to {SETTING_NAME}.",
            id="perftoolkit.W104",
        )
        for name in near
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


def _check_record_dir_env() -> list[CheckMessage]:
    """The record directory from the environment (RECORD_DIR itself is checked by its rule)."""
    record_dir = os.environ.get(RECORD_DIR_ENV)
    if record_dir and os.path.exists(record_dir) and not os.path.isdir(record_dir):
        return [
            Error(
                f"The record directory {record_dir!r} ({RECORD_DIR_ENV}) exists and is not a "
                "directory.",
                hint=f"Point {RECORD_DIR_ENV} at a directory.",
                id="perftoolkit.E008",
            )
        ]
    return []


def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    conf = get_settings()
    middleware = [str(m) for m in (getattr(settings, "MIDDLEWARE", None) or [])]
    installed = [m for m in middleware if m in MIDDLEWARE_PATHS]
    if not installed:
        misspelled = _misspelled_middleware(middleware)
        if misspelled is not None:
            return [
                Warning(
                    f"MIDDLEWARE lists {misspelled!r}, which is not perftoolkit's middleware, so "
                    "nothing is captured (and Django fails to import it when it serves).",
                    hint=f"Did you mean {MIDDLEWARE_PATH!r}?",
                    id="perftoolkit.W101",
                )
            ]
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
    if middleware.index(installed[0]) != 0:
        return [
            Warning(
                f"{installed[0]} is not first in MIDDLEWARE: queries made by the middleware "
                "listed before it are not counted.",
                hint=f'Move "{installed[0]}" to the top of MIDDLEWARE.',
                id="perftoolkit.W102",
            )
        ]
    return []


def _misspelled_middleware(middleware: list[str]) -> str | None:
    """An entry that looks like perftoolkit's middleware path with a typo in it."""
    for entry in middleware:
        lowered = entry.lower()
        if any(lowered == p.lower() for p in MIDDLEWARE_PATHS):
            return entry  # right letters, wrong case
        close = difflib.get_close_matches(
            lowered, [p.lower() for p in MIDDLEWARE_PATHS], cutoff=0.8
        )
        if close or ("perftoolkit" in lowered and "budget" in lowered):
            return entry
    return None


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


# Ignore rules, route keyers and nplusone's whitelist (README "Already using …?") -------------------


def check_interop(**kwargs: Any) -> list[CheckMessage]:
    """E014 malformed ignore rules, E015 route keyers that cannot be loaded, W106 nplusone's
    whitelist read as ignore rules (with the IGNORE entries to write instead)."""
    from perftoolkit.core.diagnosis.ignore import IgnoreRuleError, parse_rules
    from perftoolkit.middleware.ignoring import FINDING_KINDS, NPLUSONE_SETTING, whitelist_rules

    value = raw_settings()
    errors: list[CheckMessage] = []
    try:
        parse_rules(
            value.get("IGNORE", []), source=f"{SETTING_NAME}['IGNORE']", kinds=FINDING_KINDS
        )
        whitelist = whitelist_rules()
    except IgnoreRuleError as exc:
        return [
            Error(
                str(exc),
                hint='Write each rule as a dict, e.g. "IGNORE": [{"kind": "n_plus_one", '
                '"model": "shop.Book", "field": "tags", "reason": "ten rows at most"}].',
                id="perftoolkit.E014",
            )
        ]
    errors += _check_route_keyers(value.get("ROUTE_KEYERS"))
    own = {_rule_dict(r) for r in parse_rules(value.get("IGNORE", []), source="IGNORE")}
    moved = [r for r in whitelist if _rule_dict(r) not in own]
    if moved:
        entries = ", ".join(_rule_text(r) for r in moved)
        errors.append(
            Warning(
                f"perftoolkit reads {NPLUSONE_SETTING} as ignore rules ({len(moved)} not in "
                f"{SETTING_NAME}['IGNORE']).",
                hint=f'Move them to {SETTING_NAME}: "IGNORE": [{entries}].',
                id="perftoolkit.W106",
            )
        )
    return errors


def _check_route_keyers(keyers: object) -> list[CheckMessage]:
    from perftoolkit.urlconf import load_route_keyer

    if keyers is None:
        return []
    if not (isinstance(keyers, list | tuple) and all(isinstance(k, str) for k in keyers)):
        problems = [f"{SETTING_NAME}['ROUTE_KEYERS'] must be a list of dotted paths."]
    else:
        problems = []
        for path in keyers:
            try:
                load_route_keyer(path)
            except ImportError as exc:
                problems.append(str(exc))
    return [
        Error(
            problem,
            hint="Give dotted paths of functions (request, resolver_match) -> route key or None, "
            'e.g. "ROUTE_KEYERS": ["perftoolkit.urlconf.wagtail_page_route"].',
            id="perftoolkit.E015",
        )
        for problem in problems
    ]


def _rule_dict(rule: Any) -> tuple[tuple[str, Any], ...]:
    fields = {
        "kind": rule.kinds[0] if len(rule.kinds) == 1 else list(rule.kinds) or None,
        "model": rule.model,
        "field": rule.field,
        "route": rule.route,
        "callsite": rule.callsite,
    }
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in fields.items() if v)


def _rule_text(rule: Any) -> str:
    return "{" + ", ".join(f'"{k}": {v!r}'.replace("'", '"') for k, v in _rule_dict(rule)) + "}"
