"""Settings of the sample project; `SAMPLE_VARIANT=before|after` picks the variant.

Environment: `SAMPLE_VARIANT` (default `before`), `DATABASE_URL` (default: one SQLite file per
variant beside manage.py), `REDIS_URL` (cache backend; locmem without it), `PERFTOOLKIT_MODE`,
`DJANGO_DEBUG=1`, `SAMPLE_SLOW_VIEW` (a route made twice as slow, see slowdown.py), `SAMPLE_TOOLS=1`
(django-debug-toolbar with perftoolkit's panel, and django-silk at /silk/, side by side: for a look
in the browser, not for audits, since silk adds queries).
"""

from __future__ import annotations

import os
from pathlib import Path

from sample_project.database import database_from_url, sqlite_database
from sample_project.slowdown import slowdown_middleware
from sample_project.variant import variant_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

SAMPLE_VARIANT = variant_from_env()
AFTER = SAMPLE_VARIANT == "after"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sample-project-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") not in ("", "0")
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "perftoolkit",
    "lms",
    "campaigns",
    "projects",
]

MIDDLEWARE = [
    "perftoolkit.middleware.QueryBudgetMiddleware",
    # SAMPLE_SLOW_VIEW=<route> doubles that route's time (see slowdown.py); nothing when unset.
    *slowdown_middleware(),
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

PERFTOOLKIT = {"MODE": os.environ.get("PERFTOOLKIT_MODE", "off")}

ROOT_URLCONF = "sample_project.urls"
WSGI_APPLICATION = "sample_project.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": database_from_url(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else sqlite_database(BASE_DIR / f"db-{SAMPLE_VARIANT}.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis when REDIS_URL is set (shared by every gunicorn worker), else per-process locmem. The key
# prefix keeps the two variants apart when they share one Redis.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache"
        if REDIS_URL
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": REDIS_URL or f"sample-{SAMPLE_VARIANT}",
        "KEY_PREFIX": f"sample-{SAMPLE_VARIANT}",
        "TIMEOUT": 300,
    }
}

# seed 004 fix: sessions read from the cache, written through to the database, so a logged-in
# request costs no session query and any worker can still read a session another one wrote.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if AFTER else "django.contrib.sessions.backends.db"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Demo accounts only: cheap logins, so load tests measure the endpoints (see hashers.py).
PASSWORD_HASHERS = [
    "sample_project.hashers.DemoPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# SAMPLE_TOOLS=1: the tools a team may already run, beside perftoolkit. The toolbar (with
# perftoolkit's panel) shows on every HTML page; silk records every request at /silk/, which
# `python manage.py perf_report from-silk -o report.json` turns into a perftoolkit report.
SAMPLE_TOOLS = os.environ.get("SAMPLE_TOOLS", "") not in ("", "0")
if SAMPLE_TOOLS:
    INSTALLED_APPS += ["django.contrib.staticfiles", "debug_toolbar", "silk"]
    # perftoolkit first (every query counts), silk before the toolbar (its own writes happen
    # outside the toolbar's request), the toolbar last.
    MIDDLEWARE[1:1] = [
        "silk.middleware.SilkyMiddleware",
        "debug_toolbar.middleware.DebugToolbarMiddleware",
    ]
    STATIC_URL = "/static/"
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    DEBUG_TOOLBAR_PANELS = [
        "debug_toolbar.panels.timer.TimerPanel",
        "debug_toolbar.panels.sql.SQLPanel",
        "perftoolkit.contrib.debug_toolbar.PerfPanel",
        "debug_toolbar.panels.templates.TemplatesPanel",
    ]
    DEBUG_TOOLBAR_CONFIG = {"SHOW_TOOLBAR_CALLBACK": "sample_project.urls.show_toolbar"}
