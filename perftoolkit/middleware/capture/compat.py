"""What the capture relies on in Django, checked against the Django that runs it.

The capture reads a few of Django's internals: the relation descriptors' `__get__` (to see reads
that an eager load served), a queryset's prefetch lookups and hints, and a connection's
`execute_wrappers`. When one of them is missing on some Django version, that part of the
diagnosis is unavailable: the system checks say so at startup (perftoolkit.E010), and a record
directory carries it into every report built from it, instead of a silently clean bill of health.
"""

from __future__ import annotations

from typing import Any

import django

from perftoolkit.middleware.capture import accesses


def problems() -> list[str]:
    """One sentence per part of the capture that cannot work on this Django (empty: all can)."""
    found = []
    try:
        from django.db.backends.base.base import BaseDatabaseWrapper

        if not hasattr(BaseDatabaseWrapper, "execute_wrapper"):
            found.append("queries cannot be captured: connections have no execute_wrapper()")
        from django.db.models.query import QuerySet

        queryset: QuerySet[Any] = QuerySet(model=None)
        missing = [
            name
            for name in ("_prefetch_related_lookups", "_known_related_objects", "_hints")
            if not hasattr(queryset, name)
        ]
        if missing:
            found.append(
                "relations cannot be named from querysets (QuerySet has no "
                + ", ".join(missing)
                + ")"
            )
    except Exception as exc:  # an import moved: the probe itself is the finding
        found.append(f"Django's query internals cannot be inspected ({type(exc).__name__}: {exc})")
    found.extend(accesses.tracking_problems())
    return found


def describe(found: list[str]) -> str:
    """The problems as one line for environment.json and report notes."""
    return f"on Django {django.get_version()}: " + "; ".join(found)
