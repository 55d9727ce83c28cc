"""A single-file module that runs a query for its caller (IGNORE_MODULES tests)."""

from __future__ import annotations

from django.contrib.auth.models import Group


def count_groups() -> int:
    return Group.objects.count()
