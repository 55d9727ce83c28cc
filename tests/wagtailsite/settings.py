"""A minimal Wagtail site (the `blog` app's two page models) for the route keyer's tests.

Its own settings, so the main suite does not migrate Wagtail: `make test` runs these tests in a
session of their own (`pytest tests/wagtailsite --ds=tests.wagtailsite.settings`).
"""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import BASE_DIR, INSTALLED_APPS

INSTALLED_APPS = [
    *INSTALLED_APPS,  # already holds taggit (the tagged test app uses it)
    "wagtail.sites",
    "wagtail.users",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "tests.wagtailsite.blog",
]
ROOT_URLCONF = "tests.wagtailsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tests" / "wagtailsite" / "templates"],
        "APP_DIRS": True,
    }
]
WAGTAIL_SITE_NAME = "perftoolkit tests"
WAGTAILADMIN_BASE_URL = "http://testserver"
STATIC_URL = "/static/"
