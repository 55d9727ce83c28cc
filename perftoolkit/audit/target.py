"""The Django project under audit, read from its (configured) settings: where it lives, how a
server loads it, whether it records, and how its URLconf names a path.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import Resolver404, resolve

from perftoolkit.exceptions import ConfigurationError
from perftoolkit.urlconf import match_key

MIDDLEWARE_PATHS = (
    "perftoolkit.middleware.QueryBudgetMiddleware",
    "perftoolkit.middleware.query_budget.QueryBudgetMiddleware",
)


@dataclass(frozen=True, slots=True)
class TargetProject:
    settings_module: str
    root: Path  # the directory the settings module is imported from
    wsgi_application: str  # "project.wsgi:application", as gunicorn wants it
    asgi_application: str  # "project.asgi:application"
    middleware_installed: bool


def describe_target() -> TargetProject:
    """The project whose settings this process runs with."""
    # override_settings (tests) hides SETTINGS_MODULE; the environment still names it.
    module_name = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    if not module_name:
        raise ConfigurationError(
            "Django settings were configured without a settings module, so there is no project "
            "to start. Pass --settings (or DJANGO_SETTINGS_MODULE), or --url for a running server."
        )
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    root = _import_root(module_name, Path(str(module.__file__)))
    package = module_name.rpartition(".")[0]
    wsgi = getattr(settings, "WSGI_APPLICATION", None) or _beside(package, "wsgi")
    asgi = getattr(settings, "ASGI_APPLICATION", None) or _beside(package, "asgi")
    return TargetProject(
        settings_module=module_name,
        root=root,
        wsgi_application=_colon(wsgi),
        asgi_application=_colon(asgi),
        middleware_installed=any(m in MIDDLEWARE_PATHS for m in settings.MIDDLEWARE),
    )


def _beside(package: str, name: str) -> str:
    """`<module>.application` for the `wsgi`/`asgi` module nearest the settings: `mysite.wsgi`
    for `mysite.settings`, `wsgi` for a top-level `settings` (a project whose settings module is
    not in a package), `mysite.wsgi` for `mysite.settings.production` (settings split into a
    package). The nearest name when none is found: the server's error then names it."""
    parts = package.split(".") if package else []
    for end in range(len(parts), -1, -1):
        candidate = ".".join([*parts[:end], name])
        try:
            found = importlib.util.find_spec(candidate)
        except (ImportError, ValueError):
            found = None
        if found is not None:
            return f"{candidate}.application"
    return ".".join([*parts, name, "application"])


def require_middleware(target: TargetProject) -> None:
    """Refuse to audit a project whose requests would not be recorded, saying what to add."""
    if target.middleware_installed:
        return
    raise ConfigurationError(
        f"perftoolkit's middleware is not in MIDDLEWARE of {target.settings_module}, so the "
        "server would record nothing. Add it first in the list:\n"
        '    MIDDLEWARE = ["perftoolkit.middleware.QueryBudgetMiddleware", ...]\n'
        'and "perftoolkit" to INSTALLED_APPS. (Or audit latency only with --url.)'
    )


def resolve_route(path: str) -> str | None:
    """The normalised route pattern of `path` in the project's URLconf; None when none matches."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match_key(match)


def route_resolver() -> Callable[[str], str | None]:
    return resolve_route


def _import_root(module_name: str, file: Path) -> Path:
    """The sys.path entry `module_name` was imported from (a package's __init__ counts once)."""
    depth = module_name.count(".") + (1 if file.name == "__init__.py" else 0)
    return file.resolve().parents[depth]


def _colon(dotted: str) -> str:
    module, _, name = dotted.rpartition(".")
    return f"{module}:{name}"
