"""Routes under i18n_patterns(): the language prefix is not part of the endpoint's key, so one
view in two languages is one endpoint (in records, budgets and the audit's URL list)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perftoolkit.urlconf import url_entries
from tests.support.corpus import recorded_lines

pytestmark = pytest.mark.django_db

LANGUAGES = [("en", "English"), ("de", "German")]


@pytest.fixture(autouse=True)
def _i18n(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.i18n_urls"
    settings.LANGUAGES = LANGUAGES
    settings.LANGUAGE_CODE = "en"
    settings.MIDDLEWARE = [
        "perftoolkit.middleware.QueryBudgetMiddleware",
        "django.middleware.locale.LocaleMiddleware",
    ]


def test_one_view_in_two_languages_is_one_endpoint(tmp_path: Path) -> None:
    lines = recorded_lines(tmp_path / "rec", "/en/mw/three/", "/de/mw/three/", "/mw/none/")
    assert [(line["route"], line["path"]) for line in lines] == [
        ("mw/three/", "/en/mw/three/"),
        ("mw/three/", "/de/mw/three/"),
        ("mw/none/", "/mw/none/"),
    ]


def test_the_url_list_keys_routes_without_the_language_and_keeps_it_in_the_route() -> None:
    entries = {entry.key: entry.route for entry in url_entries()}
    assert entries == {"mw/none/": "mw/none/", "mw/three/": "en/mw/three/"}


def test_without_i18n_patterns_a_route_that_starts_with_a_language_code_stays(
    settings: Any, tmp_path: Path
) -> None:
    settings.ROOT_URLCONF = "tests.urls"
    [line] = recorded_lines(tmp_path / "rec", "/mw/three/")
    assert line["route"] == "mw/three/"
    from perftoolkit.urlconf import without_language

    assert without_language("de/mw/three/") == "de/mw/three/"
