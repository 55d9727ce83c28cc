"""Settings for the overhead benchmark: one SQLite file, the corpus models, DEBUG off."""

from __future__ import annotations

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
    "perftoolkit",
    "tests.corpus",
]
MIDDLEWARE: list[str] = []  # each handler in overhead.py sets its own
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
    "loggers": {"perftoolkit": {"level": "CRITICAL"}},
}
PERFTOOLKIT = {"MODE": "off"}
