"""A Django whose internals the capture cannot use is said so, at startup and in every report.

The Django side is simulated the way a new release breaks it: the generic foreign key's
descriptor class (which Django 6.1 split out of GenericForeignKey) without a `__get__`.
"""

from __future__ import annotations

import json
from pathlib import Path

import django
import pytest
from django.contrib.contenttypes import fields as generic
from django.test import Client

from perftoolkit import checks
from perftoolkit.conf import reset_settings
from perftoolkit.middleware.capture import accesses, compat, context
from perftoolkit.middleware.capture import capture as capture_module
from perftoolkit.middleware.recording import build_report
from tests.corpus.data import seed


class DescriptorWithoutGetter:
    """What a Django release that moved `__get__` elsewhere would put on the model."""

    def __init__(self, field: object) -> None:
        self.field = field


@pytest.fixture
def broken_django(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        generic, "GenericForeignKeyDescriptor", DescriptorWithoutGetter, raising=False
    )
    monkeypatch.setattr(accesses, "_installed", False)
    monkeypatch.setattr(accesses, "unavailable", [])


def test_compat_has_no_problems_on_this_django() -> None:
    assert compat.problems() == []
    assert checks.check_capture() == []


def test_check_names_the_django_version_and_the_part(broken_django: None) -> None:
    (error,) = checks.check_capture()
    assert error.id == "perftoolkit.E010"
    assert error.msg == (
        f"perftoolkit cannot capture everything on Django {django.get_version()}: reads through "
        "DescriptorWithoutGetter cannot be tracked (it defines no __get__); eager loads through "
        "it may be reported unused."
    )
    # Asking wraps nothing: the check has no side effect on the host.
    assert accesses._installed is False
    assert "__get__" not in DescriptorWithoutGetter.__dict__


@pytest.mark.django_db
def test_install_skips_the_part_and_the_capture_still_counts(
    broken_django: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed()
    # As in a new process: no thread has its hooks set up yet (an earlier test's would be kept).
    monkeypatch.setattr(capture_module, "threads_set_up", context.PerThread("DATABASES", "CACHES"))
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    response = Client().get("/corpus/fk/")
    assert response.status_code == 200
    assert accesses.unavailable == [
        "reads through DescriptorWithoutGetter cannot be tracked (it defines no __get__); eager "
        "loads through it may be reported unused"
    ]
    assert "cannot track reads of" in caplog.text
    environment = json.loads((directory / "environment.json").read_text())
    assert environment["capture_unavailable"] == (
        f"on Django {django.get_version()}: " + accesses.unavailable[0]
    )
    run = build_report(directory)
    (endpoint,) = run.endpoints
    assert endpoint.queries_max == 7  # the N+1 is still counted, and still found
    assert [f.kind for f in run.findings] == ["n_plus_one"]
    assert any(
        note.startswith("Part of the capture was unavailable where these requests were recorded")
        and "DescriptorWithoutGetter" in note
        for note in run.notes
    )
