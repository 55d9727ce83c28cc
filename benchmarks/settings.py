"""Settings for the overhead benchmark: one SQLite file, the corpus models, DEBUG off.

`BENCHMARK_CONFIG` (set by overhead.py for each of its worker processes) picks the one tool this
process runs: its app, its middleware and the settings it needs to do its work on every request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "benchmark"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "benchmarks.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tests.corpus",
]
MIDDLEWARE: list[str] = []
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCHMARK_DB", "/tmp/perftoolkit-benchmark.sqlite3"),
        "CONN_MAX_AGE": None,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        name: {"level": "CRITICAL"} for name in ("perftoolkit", "nplusone", "silk", "django")
    },
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "/static/"

CONFIG = os.environ.get("BENCHMARK_CONFIG", "none")
PERFTOOLKIT: dict[str, object] = {"MODE": "off"}

if CONFIG.startswith("perftoolkit"):
    # record: PERFTOOLKIT_RECORD_DIR is set by overhead.py; log: the detectors after every response.
    INSTALLED_APPS.append("perftoolkit")
    MIDDLEWARE = ["perftoolkit.middleware.QueryBudgetMiddleware"]
    if CONFIG == "perftoolkit log":
        PERFTOOLKIT = {"MODE": "log"}
    elif CONFIG == "perftoolkit record, unbuffered":
        PERFTOOLKIT = {"MODE": "off", "RECORD_BUFFER": 0}
    elif CONFIG.startswith("perftoolkit record at "):
        rate = float(CONFIG.rsplit(" ", 1)[-1].rstrip("%")) / 100
        PERFTOOLKIT = {"MODE": "off", "SAMPLE_RATE": rate}
elif CONFIG == "middleware":
    MIDDLEWARE = ["benchmarks.urls.PassThrough"]
elif CONFIG == "floor":
    MIDDLEWARE = ["benchmarks.urls.floor_middleware"]
elif CONFIG == "django-zeal":
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE = ["zeal.middleware.zeal_middleware"]
    ZEAL_RAISE = False  # warn (warnings.warn), as in development; raising would end the request
elif CONFIG == "nplusone":
    INSTALLED_APPS.append("nplusone.ext.django")
    MIDDLEWARE = ["nplusone.ext.django.NPlusOneMiddleware"]
    NPLUSONE_LOGGER = logging.getLogger("nplusone")
    NPLUSONE_LOG_LEVEL = logging.WARNING
elif CONFIG == "django-querycount":
    # It does its work only with DEBUG on (it reads Django's connection.queries).
    DEBUG = True
    MIDDLEWARE = ["querycount.middleware.QueryCountMiddleware"]
elif CONFIG == "django-silk":
    INSTALLED_APPS.append("silk")
    MIDDLEWARE = ["silk.middleware.SilkyMiddleware"]
elif CONFIG == "django-debug-toolbar":
    # Enabled for every request (as DEBUG with an INTERNAL_IPS address enables it): every default
    # panel instruments the request and the toolbar is rendered into the history store, though a
    # JSON response has no HTML to insert it into.
    INSTALLED_APPS += ["django.contrib.staticfiles", "debug_toolbar"]
    MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
    DEBUG_TOOLBAR_CONFIG = {
        "SHOW_TOOLBAR_CALLBACK": "benchmarks.urls.always",
        "IS_RUNNING_TESTS": False,
    }
elif CONFIG != "none":
    raise ValueError(f"unknown BENCHMARK_CONFIG {CONFIG!r}")
