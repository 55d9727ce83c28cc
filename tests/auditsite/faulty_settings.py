"""The audit site with a fault in perftoolkit's own per-query hook: every request is served
untouched and recorded unmeasured (`capture_error`)."""

from __future__ import annotations

from tests.auditsite.settings import *  # noqa: F403
from tests.auditsite.settings import MIDDLEWARE

MIDDLEWARE = ["tests.auditsite.faults.FaultyQueryHook", *MIDDLEWARE]
