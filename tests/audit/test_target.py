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
