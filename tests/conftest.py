from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from perftoolkit.conf import reset_settings
from tests.support import mariadb, postgres

# The fuzz tests explore new inputs on every run where they are developed; CI runs the same
# examples every time (HYPOTHESIS_PROFILE=ci in .ci/run), so a red build is reproducible.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Projects with settings of their own (Wagtail; debug-toolbar and silk): `make test` runs each
# folder in a session with its settings, and other sessions leave it alone.
OWN_SETTINGS = {"wagtailsite": "tests.wagtailsite.settings", "toolsite": "tests.toolsite.settings"}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    settings = OWN_SETTINGS.get(collection_path.name)
    if settings is not None and os.environ.get("DJANGO_SETTINGS_MODULE") != settings:
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgres.gate_session(items)
    mariadb.gate_session(items)


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from perftoolkit.middleware.recorder import flush_recorders

    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR", raising=False)
    reset_settings()
    yield
    # What a test's requests left held (RECORD_BUFFER) is written now, not by the background
    # thread a second later amid another test (building those lines there would meet that test's
    # patches and log into its records).
    flush_recorders()
    reset_settings()
