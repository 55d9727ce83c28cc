"""Every PERFTOOLKIT setting is checked: its type, range, choices (with a suggestion), the paths
that must exist; a near-miss of the setting's own name and of the middleware's path are warned
about. At run time (under gunicorn no system check runs) an invalid value is left out with one
log line and the request is the app's own."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from perftoolkit import checks
from perftoolkit.conf import KNOWN_KEYS, RULES, PerfToolkitSettings, get_settings

MW = "perftoolkit.middleware.QueryBudgetMiddleware"
HERE = Path(__file__).resolve()


def messages(value: dict[str, Any]) -> list[tuple[str, str, str]]:
    with override_settings(PERFTOOLKIT=value):
        return [(m.id, m.msg, m.hint) for m in checks.check_settings()]  # type: ignore[attr-defined]


def test_every_key_has_a_rule() -> None:
    assert set(RULES) == set(KNOWN_KEYS)


# (settings, the one message expected: id, start of the message, hint or its start)
CASES: list[tuple[dict[str, Any], str, str, str]] = [
    (
        {"RAISE_ON": ["n_plus_1"]},
        "perftoolkit.E012",
        "PERFTOOLKIT['RAISE_ON'] names 'n_plus_1', which is not a finding kind, so it never matches.",
        "Did you mean 'n_plus_one'?",
    ),
    (
        {"RAISE_ON": ["duplicate_queries", "n_plus_one"]},
        "perftoolkit.E012",
        "PERFTOOLKIT['RAISE_ON'] names 'duplicate_queries'",
        "Did you mean 'duplicate_query'?",
    ),
    (
        {"RAISE_ON": ["slow_request"]},  # no custom detector could write it
        "perftoolkit.E012",
        "PERFTOOLKIT['RAISE_ON'] names 'slow_request'",
        "Use one of: 'n_plus_one', 'duplicate_query'",
    ),
    (
        {"RAISE_ON": "n_plus_one"},
        "perftoolkit.E005",
        "PERFTOOLKIT['RAISE_ON'] must be a list of strings, not 'n_plus_one'",
        'For example "RAISE_ON": [...]',
    ),
    (
        {"MODE": "lgo"},
        "perftoolkit.E003",
        "PERFTOOLKIT['MODE'] is 'lgo'; its default is used instead.",
        "Did you mean 'log'?",
    ),
    (
        {"MODE": 1},
        "perftoolkit.E003",
        "PERFTOOLKIT['MODE'] is 1",
        "Use one of: 'off', 'log', 'header', 'raise', 'record'.",
    ),
    (
        {"RECORD_DIR": 5},
        "perftoolkit.E011",
        "PERFTOOLKIT['RECORD_DIR'] must be a path (a string), not int 5; its default is used",
        'For example "RECORD_DIR": BASE_DIR / "…".',
    ),
    (
        {"RECORD_DIR": ["/tmp/rec"]},
        "perftoolkit.E011",
        "PERFTOOLKIT['RECORD_DIR'] must be a path (a string), not list",
        "For example",
    ),
    (
        {"RECORD_DIR": str(HERE)},
        "perftoolkit.E008",
        f"PERFTOOLKIT['RECORD_DIR'] is {str(HERE)!r}, which exists and is not a directory.",
        "Point RECORD_DIR at a directory.",
    ),
    (
        {"CACHE": "yes"},
        "perftoolkit.E011",
        "PERFTOOLKIT['CACHE'] must be True or False, not str 'yes'",
        'For example "CACHE": False.',
    ),
    ({"CACHE": 0}, "perftoolkit.E011", "PERFTOOLKIT['CACHE'] must be True or False, not int 0", ""),
    (
        {"BUDGETS": 3},
        "perftoolkit.E011",
        "PERFTOOLKIT['BUDGETS'] must be a path (a string), not int 3",
        "",
    ),
    (
        {"BUDGETS": "/nonexistent/perf-budgets.toml"},
        "perftoolkit.W105",
        "PERFTOOLKIT['BUDGETS'] names /nonexistent/perf-budgets.toml, which does not exist.",
        "Record it first: `perftoolkit budget record --report report.json`.",
    ),
    (
        {"BUDGETS": str(HERE.parent)},
        "perftoolkit.E013",
        f"PERFTOOLKIT['BUDGETS'] is {str(HERE.parent)!r}, which exists and is not a file.",
        "Point BUDGETS at a file.",
    ),
    (
        {"PROJECT_ROOT": 42},
        "perftoolkit.E011",
        "PERFTOOLKIT['PROJECT_ROOT'] must be a path (a string), not int 42",
        "",
    ),
    (
        {"PROJECT_ROOT": "/nonexistent/project"},
        "perftoolkit.E013",
        "PERFTOOLKIT['PROJECT_ROOT'] names /nonexistent/project, which does not exist.",
        "Create it, or correct PROJECT_ROOT.",
    ),
    (
        {"PROJECT_ROOT": str(HERE)},
        "perftoolkit.E013",
        f"PERFTOOLKIT['PROJECT_ROOT'] is {str(HERE)!r}, which exists and is not a directory.",
        "",
    ),
    (
        {"IGNORE_PATHS": ["("]},
        "perftoolkit.E007",
        "PERFTOOLKIT['IGNORE_PATHS'] entry '(' is not a regular expression (missing ), "
        "unterminated subpattern at position 0); it is ignored.",
        "Escape special characters",
    ),
    (
        {"IGNORE_PATHS": ["^/ok/", "[a-"]},
        "perftoolkit.E007",
        "PERFTOOLKIT['IGNORE_PATHS'] entry '[a-' is not a regular expression",
        "",
    ),
    (
        {"IGNORE_PATHS": "^/static/"},
        "perftoolkit.E005",
        "PERFTOOLKIT['IGNORE_PATHS'] must be a list of strings",
        "",
    ),
    (
        {"IGNORE_MODULES": [1, 2]},
        "perftoolkit.E005",
        "PERFTOOLKIT['IGNORE_MODULES'] must be a list of strings",
        "",
    ),
    (
        {"DETECTORS": "perftoolkit.core.diagnosis.nplusone.detect_nplusone"},
        "perftoolkit.E005",
        "PERFTOOLKIT['DETECTORS'] must be a list of strings",
        "",
    ),
    (
        {"NPLUSONE_THRESHOLD": 1},
        "perftoolkit.E004",
        "PERFTOOLKIT['NPLUSONE_THRESHOLD'] must be an integer of at least 2, not 1",
        'For example "NPLUSONE_THRESHOLD": 3.',
    ),
    (
        {"DUPLICATE_THRESHOLD": "2"},
        "perftoolkit.E004",
        "PERFTOOLKIT['DUPLICATE_THRESHOLD'] must be an integer of at least 2, not '2'",
        "",
    ),
    ({"TARGETS": {"p95": 1}}, "perftoolkit.E009", "PERFTOOLKIT['TARGETS']: unknown target", ""),
    ({"MODDE": "log"}, "perftoolkit.E002", "Unknown key 'MODDE' in PERFTOOLKIT.", "Did you mean"),
]


@pytest.mark.parametrize(("value", "id", "message", "hint"), CASES)
def test_setting_problem_is_one_clear_message(
    value: dict[str, Any], id: str, message: str, hint: str
) -> None:
    [(got_id, got_message, got_hint)] = messages(value)

    assert got_id == id
    assert got_message.startswith(message)
    assert got_hint.startswith(hint)


@pytest.mark.parametrize(
    "value",
    [
        {"MODE": "log", "RAISE_ON": ["n_plus_one"], "CACHE": False},
        {"RECORD_DIR": str(HERE.parent), "PROJECT_ROOT": HERE.parent},  # Path objects too
        {"BUDGETS": str(HERE), "IGNORE_PATHS": [r"^/health/$"], "NPLUSONE_THRESHOLD": 5},
        {"RECORD_DIR": "/nonexistent/yet"},  # the recorder creates it
        # A custom detector may write kinds of its own.
        {"DETECTORS": ["tests.detectors.broken"], "RAISE_ON": ["slow_request"]},
    ],
)
def test_valid_settings_have_no_problem(value: dict[str, Any]) -> None:
    assert messages(value) == []


def test_record_dir_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(HERE))

    assert [m[0] for m in messages({})] == ["perftoolkit.E008"]


@pytest.mark.parametrize(
    ("value", "attribute", "expected"),
    [
        ({"MODE": "lgo"}, "mode", "off"),
        ({"CACHE": "yes"}, "cache", True),
        ({"RECORD_DIR": 5}, "record_dir", None),
        ({"NPLUSONE_THRESHOLD": "3"}, "nplusone_threshold", 3),
        ({"IGNORE_PATHS": ["^/ok/", "("]}, "ignore_paths", ("^/ok/",)),
        ({"IGNORE_PATHS": "^/x/"}, "ignore_paths", PerfToolkitSettings().ignore_paths),
        ({"RAISE_ON": ["n_plus_1"]}, "raise_on", ("n_plus_1",)),  # harmless: it never matches
        ({"TARGETS": ["p95"]}, "targets", {}),
    ],
)
def test_invalid_values_are_left_out_at_run_time_with_one_log_line(
    value: dict[str, Any], attribute: str, expected: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="perftoolkit")
    with override_settings(PERFTOOLKIT=value):
        conf = get_settings()
        get_settings()  # cached: read once, logged once

    assert getattr(conf, attribute) == expected
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("perftoolkit: PERFTOOLKIT[")


def test_project_root_of_the_wrong_type_falls_back_to_base_dir() -> None:
    with override_settings(PERFTOOLKIT={"PROJECT_ROOT": 42}, BASE_DIR="/srv/app"):
        assert get_settings().project_root == "/srv/app"


def test_ignore_paths_are_compiled_once_into_one_pattern() -> None:
    with override_settings(PERFTOOLKIT={"IGNORE_PATHS": [r"^/static/", "(", r"\.ico$"]}):
        conf = get_settings()

    assert conf.ignore_pattern is not None
    assert conf.ignore_pattern.pattern == r"(?:^/static/)|(?:\.ico$)"
    assert (conf.ignores("/static/x.css"), conf.ignores("/a.ico"), conf.ignores("/api/")) == (
        True,
        True,
        False,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        {"MODE": "log", "IGNORE_PATHS": ["("]},
        {"MODE": "log", "IGNORE_PATHS": "("},
        {"MODE": "lgo", "CACHE": "no", "NPLUSONE_THRESHOLD": -1, "RECORD_DIR": 7},
        {"MODE": "raise", "RAISE_ON": ["n_plus_1"], "TARGETS": "fast", "PROJECT_ROOT": 1},
    ],
)
def test_invalid_settings_never_break_a_request(value: dict[str, Any]) -> None:
    """No system check runs under gunicorn: the request must still be the app's own."""
    with override_settings(MIDDLEWARE=[]):
        plain = Client().get("/mw/three/")
    with override_settings(PERFTOOLKIT=value, MIDDLEWARE=[MW]):
        responses = [Client(raise_request_exception=False).get("/mw/three/") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.content for r in responses} == {plain.content}


# -- the setting's name, and the middleware's path -----------------------------------------


@pytest.mark.parametrize(
    "name", ["PERF_TOOLKIT", "PERFTOOLKITS", "PERFTOOLKIT_SETTINGS", "PERFTOOL_KIT", "PERFTOLKIT"]
)
def test_near_miss_of_the_setting_name_is_a_warning(name: str) -> None:
    with override_settings(**{name: {"MODE": "log"}}):
        found = checks.check_setting_name()

    assert [(m.id, m.msg, m.hint) for m in found] == [  # type: ignore[attr-defined]
        (
            "perftoolkit.W104",
            f"The setting {name} is not read by perftoolkit, which reads PERFTOOLKIT.",
            f"Did you mean PERFTOOLKIT? Rename {name} to PERFTOOLKIT.",
        )
    ]


@pytest.mark.parametrize("name", ["PERFORMANCE", "TOOLKIT", "PERF", "PASSWORD_HASHERS"])
def test_other_setting_names_are_left_alone(name: str) -> None:
    with override_settings(**{name: {}}):
        assert checks.check_setting_name() == []


@pytest.mark.parametrize(
    "entry",
    [
        "perftoolkit.middlware.QueryBudgetMiddleware",
        "perftoolkit.middleware.QueryBudgetMiddelware",
        "perftoolkit.middleware.querybudgetmiddleware",
        "perftoolkit.QueryBudgetMiddleware",
    ],
)
def test_misspelled_middleware_path_gets_a_suggestion(entry: str) -> None:
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware", entry]):
        [warning] = checks.check_middleware()

    assert (warning.id, warning.hint) == (  # type: ignore[attr-defined]
        "perftoolkit.W101",
        f"Did you mean {MW!r}?",
    )
    assert warning.msg.startswith(f"MIDDLEWARE lists {entry!r}, which is not perftoolkit's")  # type: ignore[attr-defined]


def test_the_module_path_of_the_middleware_is_accepted() -> None:
    full = "perftoolkit.middleware.query_budget.QueryBudgetMiddleware"
    with override_settings(MIDDLEWARE=[full], PERFTOOLKIT={"MODE": "log"}):
        assert checks.check_middleware() == []


def test_settings_checks_run_in_manage_py_check() -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with (
        override_settings(PERFTOOLKIT={"RAISE_ON": ["n_plus_1"]}),
        pytest.raises(SystemCheckError, match=r"perftoolkit\.E012"),
    ):
        call_command("check", stdout=StringIO(), stderr=StringIO())
    assert os.environ.get("PERFTOOLKIT_RECORD_DIR") is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [(0, True), (0.5, True), (1, True), (1.01, False), (-0.1, False), (True, False),
     (float("nan"), False), ("0.5", False)],
)  # fmt: skip
def test_number_rule_for_rates_and_durations(value: object, valid: bool) -> None:
    from perftoolkit.conf import number

    checked = number(0, 1, id="perftoolkit.E011")("SAMPLE_RATE", value, False)

    assert (checked.problems == ()) is valid
