"""Ignore rules on real requests: inline comments (Python and template lines), PERFTOOLKIT["IGNORE"]
and nplusone's NPLUSONE_WHITELIST, in the middleware, the report build and the system checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings

from perftoolkit.conf import override_mode, reset_settings
from perftoolkit.core.diagnosis.ignore import INLINE_RULE
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import read_run, write_run
from tests.corpus.data import seed
from tests.support.corpus import collected_findings, line_of

pytestmark = [pytest.mark.django_db, pytest.mark.mariadb]
VIEWS = "tests/interop/views.py"


@pytest.fixture(autouse=True)
def _data(db: None) -> None:
    seed()


@pytest.fixture
def record_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    return directory


def test_inline_comment_silences_the_finding_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="perftoolkit")
    with collected_findings() as found, override_mode("log"):
        Client().get("/interop/inline/")
    assert found == []
    assert [r.getMessage() for r in caplog.records] == [
        f"perftoolkit: GET interop/inline/: 1 finding(s) ignored ({INLINE_RULE})"
    ]


def test_inline_comment_for_another_kind_keeps_the_finding() -> None:
    with collected_findings() as found, override_mode("log"):
        Client().get("/interop/other-kind/")
    assert [(f.kind, f.field, f.callsite.line if f.callsite else None) for f in found] == [
        ("n_plus_one", "author", line_of(VIEWS, "# perftoolkit: ignore[duplicate_query]"))
    ]


def test_template_comment_silences_the_template_line() -> None:
    with collected_findings() as found, override_mode("raise"):
        response = Client().get("/interop/template/")  # would raise NPlusOneDetected
    assert response.status_code == 200
    assert found == []


@override_settings(PERFTOOLKIT={"IGNORE": [{"model": "corpus.Book", "field": "author"}]})
def test_setting_rule_silences_by_model_and_field() -> None:
    with collected_findings() as found, override_mode("raise"):
        Client().get("/corpus/fk/")
    assert found == []


@override_settings(PERFTOOLKIT={"IGNORE": [{"route": "GET corpus/tags/"}]})
def test_setting_rule_by_route_leaves_other_routes() -> None:
    with collected_findings() as found, override_mode("log"):
        Client().get("/corpus/fk/")
    assert [f.route for f in found] == ["corpus/fk/"]


@override_settings(NPLUSONE_WHITELIST=[{"label": "n_plus_one", "model": "corpus.Book"}])
def test_nplusone_whitelist_is_read_as_ignore_rules() -> None:
    with collected_findings() as found, override_mode("raise"):
        Client().get("/corpus/fk/")
    assert found == []


def test_report_build_lists_ignored_findings_with_their_rule(
    record_dir: Path, tmp_path: Path
) -> None:
    with override_settings(
        PERFTOOLKIT={"IGNORE": [{"callsite": "tests/corpus/views.py:fk", "reason": "demo"}]}
    ):
        client = Client()
        for url in ("/corpus/fk/", "/corpus/fk/", "/interop/inline/", "/interop/other-kind/"):
            client.get(url)
        run = build_report(record_dir)
    write_run(run, tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text())
    ignored = {(i["route"], i["rule"], i["requests"]) for i in data["ignored"]}
    assert ignored == {
        ("corpus/fk/", "PERFTOOLKIT['IGNORE'][0]", 2),
        ("interop/inline/", INLINE_RULE, 1),
    }
    assert [(f["route"], f["kind"]) for f in data["findings"]] == [
        ("interop/other-kind/", "n_plus_one")
    ]
    assert read_run(tmp_path / "report.json").ignored == run.ignored


@override_settings(PERFTOOLKIT={"IGNORE": [{"modle": "corpus.Book"}]})
def test_check_malformed_ignore_rule_is_e011() -> None:
    errors = [e for e in run_checks() if e.id == "perftoolkit.E014"]
    assert [e.msg for e in errors] == [
        "PERFTOOLKIT['IGNORE'][0] has unknown key 'modle'; a rule's keys are kind, model, "
        "field, route, callsite, reason."
    ]


@override_settings(
    NPLUSONE_WHITELIST=[
        {"label": "n_plus_one", "model": "corpus.Book", "field": "author"},
        {"model": "corpus.Tag"},
    ],
    PERFTOOLKIT={"IGNORE": [{"model": "corpus.Tag"}]},
)
def test_check_whitelist_hint_names_the_rules_to_move() -> None:
    (warning,) = [e for e in run_checks() if e.id == "perftoolkit.W106"]
    assert warning.msg == (
        "perftoolkit reads NPLUSONE_WHITELIST as ignore rules (1 not in PERFTOOLKIT['IGNORE'])."
    )
    assert warning.hint == (
        'Move them to PERFTOOLKIT: "IGNORE": [{"kind": "n_plus_one", "model": "corpus.Book", '
        '"field": "author"}].'
    )


@override_settings(PERFTOOLKIT={"ROUTE_KEYERS": ["tests.interop.nowhere"]})
def test_check_route_keyer_that_cannot_be_imported_is_e012() -> None:
    (error,) = [e for e in run_checks() if e.id == "perftoolkit.E015"]
    assert error.msg.startswith("Route keyer 'tests.interop.nowhere' cannot be imported")
