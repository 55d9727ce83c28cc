"""Which variant runs: `before` keeps the seeds' problems, `after` has them fixed.

Every fix point in the sample project branches on `optimized()`, so the problem and its fix
read side by side in one codebase.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VARIANTS = ("before", "after")


def variant_from_env() -> str:
    """`SAMPLE_VARIANT` from the environment, `before` when unset."""
    variant = os.environ.get("SAMPLE_VARIANT", "before").strip().lower() or "before"
    if variant not in VARIANTS:
        raise ImproperlyConfigured(f"SAMPLE_VARIANT must be 'before' or 'after', not {variant!r}.")
    return variant


def optimized() -> bool:
    """True in the `after` variant."""
    return bool(settings.SAMPLE_VARIANT == "after")
