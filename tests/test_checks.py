from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from perftoolkit import checks

MW = "perftoolkit.middleware.QueryBudgetMiddleware"


def ids(messages: list[object]) -> list[str]:
    return [m.id for m in messages]  # type: ignore[attr-defined]


@override_settings(PERFTOOLKIT=["MODE"])
def test_check_settings_not_a_dict() -> None:
    assert ids(checks.check_settings()) == ["perftoolkit.E001"]


@override_settings(PERFTOOLKIT={"MODDE": "log"})
def test_check_settings_unknown_key_suggests_close_match() -> None:
    [error] = checks.check_settings()
    assert error.id == "perftoolkit.E002"
    assert error.hint == "Did you mean 'MODE'?"


@override_settings(PERFTOOLKIT={"MODE": "loud"})
def test_check_settings_bad_mode() -> None:
    assert ids(checks.check_settings()) == ["perftoolkit.E003"]


@pytest.mark.parametrize("value", [1, "3", 2.5, True])
def test_check_settings_bad_threshold(value: object) -> None:
    with override_settings(PERFTOOLKIT={"NPLUSONE_THRESHOLD": value}):
        assert ids(checks.check_settings()) == ["perftoolkit.E004"]


@override_settings(PERFTOOLKIT={"IGNORE_PATHS": "^/static/"})
def test_check_settings_list_key_given_a_string() -> None:
    assert ids(checks.check_settings()) == ["perftoolkit.E005"]


@override_settings(PERFTOOLKIT={"DETECTORS": ["perftoolkit.core.nowhere.detect"]})
def test_check_settings_detector_not_importable() -> None:
    assert ids(checks.check_settings()) == ["perftoolkit.E006"]


@override_settings(PERFTOOLKIT={"IGNORE_PATHS": ["(unclosed"]})
def test_check_settings_bad_regex() -> None:
    assert ids(checks.check_settings()) == ["perftoolkit.E007"]


@override_settings(PERFTOOLKIT={"MODE": "log"}, MIDDLEWARE=[])
def test_check_middleware_enabled_but_missing() -> None:
    assert ids(checks.check_middleware()) == ["perftoolkit.W101"]


@override_settings(MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware", MW])
def test_check_middleware_not_first() -> None:
    assert ids(checks.check_middleware()) == ["perftoolkit.W102"]


@override_settings(MIDDLEWARE=[MW])
def test_check_middleware_first_is_fine() -> None:
    assert checks.check_middleware() == []


@override_settings(PERFTOOLKIT={"MODE": "log"}, DEBUG=False, ALLOWED_HOSTS=["shop.example.com"])
def test_check_production_mode_warns() -> None:
    assert ids(checks.check_production_mode()) == ["perftoolkit.W103"]


@override_settings(PERFTOOLKIT={"MODE": "log"}, DEBUG=True, ALLOWED_HOSTS=["shop.example.com"])
def test_check_production_mode_quiet_in_debug() -> None:
    assert checks.check_production_mode() == []


@override_settings(PERFTOOLKIT={"MODE": "loud"})
def test_checks_are_registered() -> None:
    with pytest.raises(SystemCheckError, match="perftoolkit.E003"):
        call_command("check", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        (["p95_ms"], "PERFTOOLKIT['TARGETS'] must be a dict, not list."),
        (
            {"p95": 400},
            "PERFTOOLKIT['TARGETS']: unknown target 'p95'; known targets are "
            "cache_hit_ratio, p50_ms, p95_ms, p99_ms, queries.",
        ),
        (
            {"queries": "5"},
            "PERFTOOLKIT['TARGETS']: target 'queries' must be a non-negative number, not '5'.",
        ),
    ],
)
def test_check_settings_bad_targets(targets: object, message: str) -> None:
    with override_settings(PERFTOOLKIT={"TARGETS": targets}):
        [error] = checks.check_settings()
    assert (error.id, error.msg) == ("perftoolkit.E009", message)


@override_settings(PERFTOOLKIT={"TARGETS": {"P95_MS": 400, "queries": 4}})
def test_check_settings_good_targets() -> None:
    assert checks.check_settings() == []
