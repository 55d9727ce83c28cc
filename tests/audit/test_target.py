from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from perftoolkit.audit.target import (
    TargetProject,
    describe_target,
    require_middleware,
    resolve_route,
)
from perftoolkit.exceptions import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def test_describe_target_reads_the_settings() -> None:
    assert describe_target() == TargetProject(
        settings_module="tests.settings",
        root=ROOT,
        wsgi_application="tests.wsgi:application",
        asgi_application="tests.asgi:application",
        middleware_installed=True,
    )


@override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware"])
def test_require_middleware_says_what_to_add() -> None:
    with pytest.raises(ConfigurationError) as info:
        require_middleware(describe_target())

    assert str(info.value) == (
        "perftoolkit's middleware is not in MIDDLEWARE of tests.settings, so the server would "
        "record nothing. Add it first in the list:\n"
        '    MIDDLEWARE = ["perftoolkit.middleware.QueryBudgetMiddleware", ...]\n'
        'and "perftoolkit" to INSTALLED_APPS. (Or audit latency only with --url.)'
    )


@override_settings(ROOT_URLCONF="tests.auditsite.urls")
@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/", "/"),
        ("/items/", "items/"),
        ("/items/12/", "items/<int:pk>/"),
        ("/items/x/", None),
    ],
)
def test_resolve_route(path: str, route: str | None) -> None:
    assert resolve_route(path) == route


def test_describe_target_of_a_settings_module_outside_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """django-oscar's sandbox: `perf_settings.py` beside `wsgi.py`, no package around them."""
    (tmp_path / "site_settings.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "site_settings")

    with override_settings(WSGI_APPLICATION=None, ASGI_APPLICATION=None):
        target = describe_target()

    assert (target.root, target.wsgi_application, target.asgi_application) == (
        tmp_path,
        "wsgi:application",
        "asgi:application",
    )


def test_describe_target_of_settings_split_into_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """djangosnippets: `djangosnippets/settings/production.py`, and `djangosnippets/wsgi.py`
    one package up, with no WSGI_APPLICATION setting."""
    settings_dir = tmp_path / "snipsite" / "settings"
    settings_dir.mkdir(parents=True)
    for init in (tmp_path / "snipsite" / "__init__.py", settings_dir / "__init__.py"):
        init.write_text("")
    (settings_dir / "production.py").write_text("")
    (tmp_path / "snipsite" / "wsgi.py").write_text("application = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "snipsite.settings.production")

    with override_settings(WSGI_APPLICATION=None, ASGI_APPLICATION=None):
        target = describe_target()

    assert (target.root, target.wsgi_application, target.asgi_application) == (
        tmp_path,
        "snipsite.wsgi:application",
        "snipsite.settings.asgi:application",  # none found: the nearest name
    )
