from __future__ import annotations

import sys
from pathlib import Path

import django
import pytest
from django.test import override_settings

from perftoolkit.core.events import CallSite
from perftoolkit.middleware.capture.capture import capture_queries
from perftoolkit.middleware.capture.frames import Kind, classify, relative_path
from tests.support import query_helper
from tests.support.query_pkg import runner

pytestmark = pytest.mark.django_db
HERE = Path(__file__).resolve()
THIS_FILE = "tests/middleware/capture/test_frames.py"


def _callsite_of_helper() -> CallSite | None:
    with capture_queries() as capture:
        query_helper.count_groups()  # the line a finding should name when the helper is ignored
    return capture.queries[0].callsite


def _callsite_of_package() -> CallSite | None:
    with capture_queries() as capture:
        runner.count_groups()
    return capture.queries[0].callsite


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(HERE.read_text().splitlines(), 1) if text in line)


def test_classify_project_library_and_django_files() -> None:
    assert classify(str(HERE)) is Kind.PROJECT
    assert classify(django.__file__) is Kind.LIBRARY
    assert classify(pytest.__file__) is Kind.LIBRARY
    query_py = str(Path(django.__file__).parent / "db" / "models" / "query.py")
    assert classify(query_py) is Kind.QUERYSET
    assert classify("<frozen importlib._bootstrap>") is Kind.LIBRARY


def test_callsite_is_the_helper_line_by_default() -> None:
    site = _callsite_of_helper()
    assert site == CallSite("tests/support/query_helper.py", 9, "count_groups")


@override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["tests.support.query_helper"]})
def test_ignore_modules_single_file_module_names_its_caller() -> None:
    site = _callsite_of_helper()
    line = _line_of("query_helper.count_groups()  # the line")
    assert site == CallSite(THIS_FILE, line, "_callsite_of_helper")


@override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["tests.support.query_pkg"]})
def test_ignore_modules_package_covers_its_submodules() -> None:
    site = _callsite_of_package()
    assert site == CallSite(THIS_FILE, _line_of("runner.count_groups()"), "_callsite_of_package")


def test_ignore_modules_is_read_again_when_the_setting_changes() -> None:
    before = _callsite_of_helper()
    with override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["tests.support.query_helper"]}):
        during = _callsite_of_helper()
    after = _callsite_of_helper()
    assert before == after == CallSite("tests/support/query_helper.py", 9, "count_groups")
    assert during is not None
    assert during.file == THIS_FILE


def test_ignore_modules_finds_a_module_not_imported_yet() -> None:
    sys.modules.pop("tests.support.query_pkg.runner", None)
    sys.modules.pop("tests.support.query_pkg", None)
    with override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["tests.support.query_pkg.runner"]}):
        assert classify(str(Path(runner.__file__).resolve())) is Kind.LIBRARY
    assert classify(str(Path(runner.__file__).resolve())) is Kind.PROJECT


def test_ignore_modules_unknown_name_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["no_such_module_here.sub"]}):
        assert classify(str(HERE)) is Kind.PROJECT
    assert "IGNORE_MODULES names 'no_such_module_here.sub', which cannot be found" in caplog.text


def test_project_root_override_changes_relative_paths(tmp_path: Path) -> None:
    assert relative_path(str(HERE)) == THIS_FILE
    with override_settings(PERFTOOLKIT={"PROJECT_ROOT": str(HERE.parent)}):
        assert relative_path(str(HERE)) == "test_frames.py"
        assert _callsite_of_helper() == CallSite("../../support/query_helper.py", 9, "count_groups")
    assert relative_path(str(HERE)) == THIS_FILE


def test_callsite_names_the_function_around_a_comprehension() -> None:
    def counts() -> list[int]:
        return [query_helper.count_groups() for _ in range(1)]

    ignored = override_settings(PERFTOOLKIT={"IGNORE_MODULES": ["tests.support.query_helper"]})
    with ignored, capture_queries() as capture:
        counts()
    site = capture.queries[0].callsite
    assert site == CallSite(THIS_FILE, _line_of("return [query_helper"), "counts")
