"""The only code that hooks the database and the ORM: always scoped to a capture."""

from __future__ import annotations
