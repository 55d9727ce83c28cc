"""The test project with django-debug-toolbar (perftoolkit's panel) and django-silk installed.

Its own settings, so the main suite runs without them: `make test` runs these tests in a session
of their own (`pytest tests/toolsite --ds=tests.toolsite.settings`).
"""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

DEBUG = True
INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.staticfiles", "debug_toolbar", "silk"]
# Ours first (every query counts), then silk (its own writes stay outside the toolbar's request),
# then the toolbar.
MIDDLEWARE = [
    "perftoolkit.middleware.QueryBudgetMiddleware",
    "silk.middleware.SilkyMiddleware",
    "debug_toolbar.middleware.DebugToolbarMiddleware",
]
ROOT_URLCONF = "tests.toolsite.urls"
STATIC_URL = "/static/"
DEBUG_TOOLBAR_PANELS = [
    "debug_toolbar.panels.sql.SQLPanel",
    "perftoolkit.contrib.debug_toolbar.PerfPanel",
]
DEBUG_TOOLBAR_CONFIG = {
    "SHOW_TOOLBAR_CALLBACK": "tests.toolsite.urls.show_toolbar",
    "IS_RUNNING_TESTS": False,
}
SILKY_PYTHON_PROFILER = False
