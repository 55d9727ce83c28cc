"""`perf_report from-silk` on requests django-silk really stored (its middleware and models)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import django.db.models.query as django_query
import pytest
import silk
import silk.sql as silk_query
from django.core.management import CommandError, call_command
from django.test import Client
from silk.models import Request, SQLQuery

from perftoolkit.contrib.silk import NOT_STORED, PARAMETERS, callsite_from_traceback, parse_since
from perftoolkit.core.events import CallSite
from perftoolkit.exceptions import ConfigurationError
from tests.corpus.data import seed
from tests.support.corpus import line_of

pytestmark = pytest.mark.django_db
VIEWS = "tests/corpus/views.py"


@pytest.fixture(autouse=True)
def _traffic(db: None) -> None:
    seed()
    client = Client()
    for url in ("/corpus/fk/", "/corpus/fk/", "/mw/three/", "/mw/none/"):
        assert client.get(url).status_code == 200


def _from_silk(tmp_path: Path, *args: str) -> dict[str, object]:
    out = io.StringIO()
    call_command("perf_report", "from-silk", "-o", str(tmp_path / "r.json"), *args, stdout=out)
    data: dict[str, object] = json.loads((tmp_path / "r.json").read_text())
    data["stdout"] = out.getvalue()
    return data


def test_silk_version_under_test() -> None:
    assert silk.__version__ == "5.6.0"  # type: ignore[attr-defined]


def test_silk_stored_the_traffic() -> None:
    assert Request.objects.count() == 4
    assert SQLQuery.objects.filter(request__path="/corpus/fk/").count() == 2 * 7


def test_from_silk_builds_a_report_with_findings(tmp_path: Path) -> None:
    data = _from_silk(tmp_path)
    assert data["stdout"] == "r.json: 4 silk requests, 3 endpoints, 1 findings\n".replace(
        "r.json", str(tmp_path / "r.json")
    )
    endpoints = {e["route"]: e for e in data["endpoints"]}  # type: ignore[attr-defined]
    assert sorted(endpoints) == ["corpus/fk/", "mw/none/", "mw/three/"]
    assert endpoints["corpus/fk/"]["requests"] == 2
    assert endpoints["corpus/fk/"]["queries"] == {"min": 7, "median": 7, "max": 7}
    assert endpoints["corpus/fk/"]["view"] == "tests.corpus.views.fk"
    assert endpoints["mw/three/"]["status_codes"] == {"200": 1}
    (finding,) = data["findings"]  # type: ignore[misc]
    assert finding["kind"] == "n_plus_one"
    assert finding["route"] == "corpus/fk/"
    assert finding["repeats"] == 6
    assert finding["requests"] == 2
    assert finding["callsite"] == {
        "file": VIEWS,
        "line": line_of(VIEWS, "# case: fk"),
        "function": "fk",
    }
    assert (finding["model"], finding["field"], finding["fix"]) == (None, None, None)
    assert data["notes"][:2] == [NOT_STORED, PARAMETERS]  # type: ignore[index]
    assert data["environment"] == {"source": "django-silk"}


def test_from_silk_elides_parameter_values(tmp_path: Path) -> None:
    data = _from_silk(tmp_path)
    sql = [q["sql"] for q in data["queries"]]  # type: ignore[attr-defined]
    assert any('WHERE "corpus_author"."id" = ? LIMIT ?' in s for s in sql)


def test_from_silk_path_prefix_and_since(tmp_path: Path) -> None:
    data = _from_silk(tmp_path, "--path-prefix", "/mw/")
    assert sorted(e["route"] for e in data["endpoints"]) == ["mw/none/", "mw/three/"]  # type: ignore[attr-defined]
    data = _from_silk(tmp_path, "--since", "2999-01-01")
    assert data["endpoints"] == []
    assert data["notes"][0] == "silk holds no request since 2999-01-01T00:00:00+00:00."  # type: ignore[index]


def test_from_silk_without_tracebacks_says_what_is_missing(tmp_path: Path) -> None:
    SQLQuery.objects.update(traceback="")
    data = _from_silk(tmp_path)
    (finding,) = data["findings"]  # type: ignore[misc]
    assert (finding["callsite"], finding["origin"]) == (None, None)
    assert data["notes"][-1] == (  # type: ignore[index]
        "17 of 17 statements had no traceback in silk (or none with a frame of the project): "
        "they have no callsite, so their findings have no callsite and no origin."
    )


def test_from_silk_bad_since_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as error:
        _from_silk(tmp_path, "--since", "last tuesday")
    assert error.value.returncode == 1
    assert str(error.value) == (
        "--since 'last tuesday' is neither a date nor a duration: give 2026-11-20, "
        "2026-11-20T09:30 or a duration such as 12h or 7d."
    )


def test_parse_since() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_since("12h", now=now) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert parse_since("2w", now=now) == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-20T09:30") == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    with pytest.raises(ConfigurationError):
        parse_since("7 days")


def test_callsite_from_a_traceback_in_either_order() -> None:
    views = Path(__file__).resolve().parents[1] / "corpus" / "views.py"
    comprehension = f'  File "{views}", line 26, in <listcomp>\n    names = ...\n'
    project = f'  File "{views}", line 26, in fk\n    names = ...\n'
    django = f'  File "{django_query.__file__}", line 9, in get\n    x\n'
    silk_sql = f'  File "{silk_query.__file__}", line 5, in execute_sql\n    x\n'
    expected = CallSite("tests/corpus/views.py", 26, "fk")
    assert callsite_from_traceback(silk_sql + django + comprehension + project) == expected
    assert callsite_from_traceback(project + comprehension + django + silk_sql) == expected
    assert callsite_from_traceback(silk_sql + django) is None
    assert callsite_from_traceback("") is None
