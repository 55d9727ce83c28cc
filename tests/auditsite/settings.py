from __future__ import annotations

SECRET_KEY = "perftoolkit-audit-tests"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.auditsite.urls"
INSTALLED_APPS = ["perftoolkit"]
MIDDLEWARE = ["perftoolkit.middleware.QueryBudgetMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
USE_TZ = True
WSGI_APPLICATION = "tests.auditsite.wsgi.application"
PERFTOOLKIT: dict[str, object] = {}
