from __future__ import annotations

from collections.abc import Iterator

import pytest

from perftoolkit.conf import reset_settings
from tests.support import postgres


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgres.gate_session(items)


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR", raising=False)
    reset_settings()
    yield
    reset_settings()
