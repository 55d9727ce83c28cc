"""The audit site whose WSGI application cannot be imported: the server dies at start-up."""

from __future__ import annotations

from tests.auditsite.settings import *  # noqa: F403

WSGI_APPLICATION = "tests.auditsite.broken_wsgi.application"
