from __future__ import annotations

from django.apps import AppConfig


class LmsConfig(AppConfig):
    """Seeds 001, 002 and 004: the Unpuzzle learning platform after its Flask → Django move."""

    name = "lms"
    verbose_name = "Learning platform"

    def ready(self) -> None:
        from lms import access

        access.connect_signals()
