from __future__ import annotations

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Seed 000: the video-collaboration backend whose project list runs 50+ queries."""

    name = "projects"
