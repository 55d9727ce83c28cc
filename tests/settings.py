from __future__ import annotations

from pathlib import Path

from tests.support import mariadb, postgres

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "perftoolkit-tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "perftoolkit",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "tests.corpus",
    "tests.shop",
    "taggit",
    "tests.tagged",
]
MIDDLEWARE = ["perftoolkit.middleware.QueryBudgetMiddleware"]
DATABASES = {
    "default": postgres.django_database()
    if postgres.using_postgres()
    else mariadb.django_database()
    if mariadb.using_mariadb()
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tests" / "templates"],
        "APP_DIRS": True,
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PERFTOOLKIT = {"MODE": "off"}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
