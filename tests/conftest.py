from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftoolkit.conf import reset_settings
from tests.support import postgres

# The Wagtail site's tests need its own settings (`make test` runs them in a session of their own).
WAGTAIL_SETTINGS = "tests.wagtailsite.settings"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name == "wagtailsite" and (
        os.environ.get("DJANGO_SETTINGS_MODULE") != WAGTAIL_SETTINGS
    ):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgres.gate_session(items)


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR", raising=False)
    reset_settings()
    yield
    reset_settings()
