"""The middleware under ASGI: async views and sync views, capture in the ORM's thread."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient, Client

from perftoolkit.conf import override_mode
from tests.corpus.data import seed
from tests.support.corpus import collected_findings

# Async views run their ORM calls in another thread: the test data must be committed.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.mariadb,
]


@pytest.fixture(autouse=True)
def _data(transactional_db: None) -> None:
    seed()


def get_async(path: str, mode: str) -> Any:
    async def run() -> Any:
        try:
            with override_mode(mode):
                return await AsyncClient().get(path)
        finally:
            # The ORM ran in an executor thread with its own connection: close it there.
            await sync_to_async(connections.close_all)()

    return asyncio.run(run())


def test_middleware_async_view_counts_its_queries() -> None:
    response = get_async("/mw/async/", "header")
    assert response.status_code == 200
    assert response.json()["tags"] == ["python", "django", "sql"]
    assert response["X-Perf-Queries"] == "2"


def test_middleware_sync_view_under_asgi_counts_its_queries() -> None:
    assert get_async("/mw/three/", "header")["X-Perf-Queries"] == "3"


def test_middleware_sync_and_async_agree() -> None:
    with override_mode("header"):
        sync_count = Client().get("/mw/three/")["X-Perf-Queries"]
    assert sync_count == get_async("/mw/three/", "header")["X-Perf-Queries"] == "3"


def test_middleware_async_nplusone_is_diagnosed_like_sync() -> None:
    with collected_findings() as found_async:
        assert get_async("/corpus/fk/", "log").status_code == 200
    with collected_findings() as found_sync, override_mode("log"):
        Client().get("/corpus/fk/")
    [finding] = found_async
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("author")'
    assert [f.to_dict() for f in found_async] == [f.to_dict() for f in found_sync]
