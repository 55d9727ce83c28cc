from __future__ import annotations

from django.apps import AppConfig


class CorpusConfig(AppConfig):
    name = "tests.corpus"
    label = "corpus"
    default_auto_field = "django.db.models.BigAutoField"
