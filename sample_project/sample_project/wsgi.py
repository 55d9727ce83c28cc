"""WSGI entry point: `gunicorn sample_project.wsgi` from the sample_project/ directory."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")

application = get_wsgi_application()
