"""Query counting as the acceptance script does it: CaptureQueriesContext on the default database."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext


def count_queries(client: Client, path: str) -> tuple[HttpResponse, int]:
    """The response to GET `path` and its query count, after one warm-up request."""
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response, len(ctx.captured_queries)
