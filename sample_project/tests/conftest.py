from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.support import postgres


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"sample variant: {settings.SAMPLE_VARIANT}, database: {database['ENGINE']} {database['NAME']}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgres.gate_session(items)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Seed the small data set once; every test runs in a transaction rolled back after it."""
    if postgres.using_postgres() and connection.vendor != "postgresql":
        pytest.exit("a PostgreSQL session needs DATABASE_URL=postgres://...", returncode=1)
    with django_db_blocker.unblock():
        call_command("seed_sample", "--size", "small", stderr=io.StringIO())


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db: None) -> Callable[[str | None], Client]:
    """A test client logged in (session auth) as the named seeded user, anonymous for None."""

    def make(username: str | None) -> Client:
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        return client

    return make
