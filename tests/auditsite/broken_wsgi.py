from __future__ import annotations

import tests.auditsite.no_such_module  # noqa: F401  # the cause the audit must name
from tests.auditsite.wsgi import application

__all__ = ["application"]
