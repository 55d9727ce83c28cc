from __future__ import annotations

from django.apps import AppConfig


class TaggedConfig(AppConfig):
    name = "tests.tagged"
    label = "tagged"
    default_auto_field = "django.db.models.BigAutoField"
