"""ASGI entry point: `uvicorn sample_project.asgi:application` from the sample_project/ directory."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")

application = get_asgi_application()
