from __future__ import annotations

import pytest
from django.test import override_settings

from perftoolkit.conf import get_settings, reset_settings
from perftoolkit.core.diagnosis import DEFAULT_DETECTORS


def test_get_settings_defaults() -> None:
    with override_settings(PERFTOOLKIT={}):
        conf = get_settings()
    assert conf.mode == "off"
    assert conf.nplusone_threshold == 3
    assert conf.detectors == DEFAULT_DETECTORS
    assert conf.enabled is False


def test_get_settings_override_resets_cache() -> None:
    with override_settings(PERFTOOLKIT={"MODE": "log", "NPLUSONE_THRESHOLD": 5}):
        assert get_settings().mode == "log"
        assert get_settings().nplusone_threshold == 5
    assert get_settings().mode == "off"


def test_get_settings_lists_become_tuples() -> None:
    with override_settings(PERFTOOLKIT={"IGNORE_PATHS": ["^/health/"]}):
        assert get_settings().ignore_paths == ("^/health/",)


def test_get_settings_record_dir_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", "/tmp/rec")
    reset_settings()
    conf = get_settings()
    assert conf.record_dir == "/tmp/rec"
    assert conf.recording is True
    assert conf.enabled is True
    assert conf.mode == "off"


def test_get_settings_project_root_defaults_to_base_dir(settings: object) -> None:
    with override_settings(BASE_DIR="/srv/app"):
        assert get_settings().project_root == "/srv/app"
