"""The pytest plugin, in pytester sandboxes: a tiny Django project run in its own process."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "sandbox"
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "perftoolkit"]
MIDDLEWARE = ["perftoolkit.middleware.QueryBudgetMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

URLS = """
from django.contrib.auth.models import User
from django.http import JsonResponse
from django.urls import path


def users(request):
    people = User.objects.order_by("id")
    groups = [[g.name for g in user.groups.all()] for user in people]
    return JsonResponse({"groups": groups})


def count(request):
    total = User.objects.count()
    for _ in range(int(request.GET.get("extra", 0))):
        User.objects.exists()
    return JsonResponse({"total": total})


urlpatterns = [path("users/", users), path("count/", count)]
"""

TESTS = """
import pytest
from django.contrib.auth.models import User


@pytest.fixture
def people(db):
    for i in range(3):
        User.objects.create(username=f"u{i}")


def test_users(client, people):
    assert client.get("/users/").status_code == 200


def test_count(client, db):
    assert client.get("/count/").status_code == 200
"""

BUDGETS = """\
# sandbox budgets
[endpoints."GET users/"]
queries = 4  # one per user plus the list

[endpoints."GET count/"]
queries = 1
"""


@pytest.fixture
def sandbox(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "settings")
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR", raising=False)
    pytester.makepyfile(settings=SETTINGS, urls=URLS, test_views=TESTS)
    pytester.makefile(".toml", **{"perf-budgets": BUDGETS})
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester


def _run(sandbox: pytest.Pytester, *args: str) -> pytest.RunResult:
    return sandbox.runpytest_subprocess(*args, timeout=120)


def test_perf_budgets_pass(sandbox: pytest.Pytester) -> None:
    result = _run(sandbox, "--perf-budgets", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "test_views.py::test_users PASSED*25%*",
            "test_views.py::test_count PASSED*50%*",
            "perf-budgets.toml::GET count/ PASSED*75%*",
            "perf-budgets.toml::GET users/ PASSED*100%*",
            "perftoolkit: 2 endpoints judged against perf-budgets.toml, 0 over budget",
        ]
    )


FAULTY_CAPTURE = """
import pytest
from perftoolkit.middleware.capture.capture import QueryCapture


def _boom(*args, **kwargs):
    raise RuntimeError("injected into the per-query hook")


@pytest.fixture(autouse=True)
def faulty(monkeypatch):
    monkeypatch.setattr(QueryCapture, "_record", _boom)
"""


def test_perf_budgets_never_pass_on_unmeasured_requests(sandbox: pytest.Pytester) -> None:
    """perftoolkit's own per-query hook fails: the tests' responses are untouched (they pass),
    the requests are recorded unmeasured, and the session fails rather than judging 0 queries."""
    sandbox.makeconftest(FAULTY_CAPTURE)
    result = _run(sandbox, "--perf-budgets")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "perftoolkit: 0 endpoints judged against perf-budgets.toml, 0 over budget; "
            "not exercised: GET users/, GET count/",
            "perftoolkit: 2 requests of this run were not measured: perftoolkit's own capture "
            "failed on them*The check above judged the measured requests only, so it cannot "
            "pass*",
        ]
    )


def test_perf_budgets_fail_is_a_failed_item_with_the_fix(sandbox: pytest.Pytester) -> None:
    sandbox.makefile(".toml", **{"perf-budgets": BUDGETS.replace("queries = 4", "queries = 3")})
    result = _run(sandbox, "--perf-budgets", "--junitxml=junit.xml")
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*_ GET users/ _*",
            "GET users/ is over budget: queries 4 > 3 (+1). (budget: perf-budgets.toml:2)",
            "  queries: measured 4, budget 3 (+1)  <- over budget",
            "Findings:",
            "  - n_plus_one at urls.py:8: *",
            '    fix: .prefetch_related("groups")',
            "FAILED perf-budgets.toml::GET users/ - GET users/ is over budget*",
        ]
    )
    suite = ET.parse(sandbox.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {
        (c.get("classname"), c.get("name")): [x.tag for x in c] for c in suite.iter("testcase")
    }
    assert cases[("perf-budgets.toml", "GET users/")] == ["failure"]
    assert cases[("perf-budgets.toml", "GET count/")] == []


def test_perf_budgets_one_more_query_fails(sandbox: pytest.Pytester) -> None:
    sandbox.makepyfile(
        test_extra="""
        def test_count_with_one_more_query(client, db):
            assert client.get("/count/?extra=1").status_code == 200
        """
    )
    result = _run(sandbox, "--perf-budgets")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "GET count/ is over budget: queries 2 > 1 (+1). (budget: perf-budgets.toml:5)",
            "FAILED perf-budgets.toml::GET count/ - GET count/ is over budget*",
        ]
    )


def test_perf_budgets_exitfirst_stops_at_the_first_endpoint(sandbox: pytest.Pytester) -> None:
    sandbox.makefile(".toml", **{"perf-budgets": "[defaults]\nqueries = 0\n"})
    result = _run(sandbox, "--perf-budgets", "-x")
    result.assert_outcomes(passed=2, failed=1)


def test_perf_budgets_under_xdist(sandbox: pytest.Pytester) -> None:
    sandbox.makefile(".toml", **{"perf-budgets": BUDGETS.replace("queries = 4", "queries = 3")})
    result = _run(sandbox, "--perf-budgets", "-n", "2", "--perf-report", "report.json")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "perftoolkit: 2 endpoints judged against perf-budgets.toml, 1 over budget",
            "FAILED perf-budgets.toml::GET users/ - GET users/ is over budget*",
        ]
    )
    import json

    report = json.loads((sandbox.path / "report.json").read_text())
    assert {(e["route"], e["requests"], e["budget"]["status"]) for e in report["endpoints"]} == {
        ("users/", 1, "exceeded"),
        ("count/", 1, "ok"),
    }


def test_perf_record_writes_then_passes(sandbox: pytest.Pytester) -> None:
    (sandbox.path / "perf-budgets.toml").unlink()
    recorded = _run(sandbox, "--perf-record", "--perf-headroom", "1")
    recorded.assert_outcomes(passed=2)
    recorded.stdout.fnmatch_lines(
        ["perftoolkit: recorded 2 endpoint budgets in perf-budgets.toml (2 added)"]
    )
    text = (sandbox.path / "perf-budgets.toml").read_text()
    assert text.startswith("# Query budgets per endpoint:")
    assert '[endpoints."GET count/"]\nqueries = 2\n' in text
    assert '[endpoints."GET users/"]\nqueries = 5\n' in text
    _run(sandbox, "--perf-budgets").assert_outcomes(passed=4)


def test_perf_record_keeps_comments(sandbox: pytest.Pytester) -> None:
    before = (sandbox.path / "perf-budgets.toml").read_text()
    _run(sandbox, "--perf-record").assert_outcomes(passed=2)
    assert (sandbox.path / "perf-budgets.toml").read_text() == before


def test_perf_budgets_file_option_and_bad_file(sandbox: pytest.Pytester) -> None:
    sandbox.makefile(".toml", ci='[endpoints."GET users/"]\nqueries = "many"\n')
    result = _run(sandbox, "--perf-budgets", "--perf-budgets-file", "ci.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: perftoolkit: ci.toml:2: queries must be a whole number of at least 0*"]
    )
    assert "Traceback" not in result.stderr.str()


def test_perf_budgets_stale_route(sandbox: pytest.Pytester) -> None:
    sandbox.makefile(".toml", **{"perf-budgets": '[endpoints."GET user/"]\nqueries = 1\n'})
    result = _run(sandbox, "--perf-budgets")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: perftoolkit: perf-budgets.toml:1: 'GET user/' names a route*"]
    )


def test_perf_budgets_without_the_middleware(sandbox: pytest.Pytester) -> None:
    sandbox.makepyfile(
        settings=SETTINGS.replace('["perftoolkit.middleware.QueryBudgetMiddleware"]', "[]")
    )
    result = _run(sandbox, "--perf-budgets")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --perf-budgets records requests with perftoolkit's middleware, which is not in "
            'MIDDLEWARE of settings. Add "perftoolkit.middleware.QueryBudgetMiddleware" as the first '
            'entry of MIDDLEWARE (and "perftoolkit" to INSTALLED_APPS).'
        ]
    )


def test_marker_and_fixture(sandbox: pytest.Pytester) -> None:
    sandbox.makepyfile(
        test_views="""
        import pytest
        from django.contrib.auth.models import User


        @pytest.fixture
        def people(db):
            for i in range(3):
                User.objects.create(username=f"u{i}")


        @pytest.mark.query_budget(4)
        def test_marker_pass(client, people):
            client.get("/users/")


        @pytest.mark.query_budget(2)
        def test_marker_fail(client, people):
            client.get("/users/")


        def test_fixture_pass(client, people, query_budget):
            with query_budget(4):
                client.get("/users/")


        def test_fixture_fail(client, people, query_budget):
            with query_budget(1):
                client.get("/users/")
        """
    )
    result = _run(sandbox)
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_fail _*",
            "QueryBudgetExceeded: test_views.py::test_marker_fail is over its query budget: "
            "queries 4 > 2 (+2).",
            "4 queries, 2 distinct (count × statement, where):",
            '    3 × SELECT "auth_group"."id", "auth_group"."name" FROM "auth_group" INNER JOIN *',
            "        at urls.py:8",
            '    1 × SELECT "auth_user"."id"*',
            "        at urls.py:8",
            "Findings:",
            "  - n_plus_one at urls.py:8: N+1: User.groups runs once per User row (3 queries)*",
            '    fix: .prefetch_related("groups")',
            "(add -v to see whole statements)",
            "*_ test_fixture_fail _*",
            "*",
            "    def test_fixture_fail(client, people, query_budget):",
            ">       with query_budget(1):",
            "E       perftoolkit.exceptions.QueryBudgetExceeded: The query_budget block is over its "
            "query budget: queries 4 > 1 (+3).",
            "E       4 queries, 2 distinct (count × statement, where):",
            'E           3 × SELECT "auth_group"."id"*',
            "E               at urls.py:8",
            'E           1 × SELECT "auth_user"."id"*',
            "E               at urls.py:8",
            "E       Findings:",
            "E         - n_plus_one at urls.py:8: *",
            'E           fix: .prefetch_related("groups")',
        ]
    )
    assert "During handling" not in result.stdout.str()


def test_marker_and_fixture_fail_when_the_capture_failed(sandbox: pytest.Pytester) -> None:
    """perftoolkit's own per-query hook fails: the marked test and the fixture's block counted
    nothing, and fail saying the count is unknown instead of passing on 0 queries."""
    sandbox.makeconftest(FAULTY_CAPTURE)
    sandbox.makepyfile(
        test_views="""
        import pytest
        from django.contrib.auth.models import User


        @pytest.fixture
        def people(db):
            for i in range(3):
                User.objects.create(username=f"u{i}")


        @pytest.mark.query_budget(2)
        def test_marker(client, people):
            client.get("/users/")


        def test_fixture(client, people, query_budget):
            with query_budget(1):
                client.get("/users/")


        def test_unbudgeted(client, people):
            client.get("/users/")
        """
    )
    result = _run(sandbox)
    result.assert_outcomes(passed=1, failed=2)
    unknown = (
        "could not be judged against its budget of {limit}: perftoolkit's own capture failed in "
        "its 'query' hook during the block and stopped counting, so the number of queries the "
        "code ran is unknown (0 counted before the failure). The ERROR log line 'perftoolkit: "
        "internal error in query at …' (logger 'perftoolkit', logged once per process for each "
        "place, so possibly in an earlier test's output) has the traceback. The code under test "
        "is not at fault: report this to perftoolkit with that traceback."
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker _*",
            "CaptureFailed: test_views.py::test_marker " + unknown.format(limit="2 queries"),
            "*_ test_fixture _*",
            "*",
            ">       with query_budget(1):",
            "E       perftoolkit.exceptions.CaptureFailed: The query_budget block "
            + unknown.format(limit="1 query"),
        ]
    )
    result.stdout.no_fnmatch_line("*QueryBudgetExceeded*")
    assert "During handling" not in result.stdout.str()


def test_plugin_idle_without_django_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    _run(pytester).assert_outcomes(passed=1)
    result = _run(pytester, "--perf-budgets")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --perf-budgets records requests through Django's test client, but no Django settings*"
        ]
    )


def test_perf_budgets_accepts_a_subclass_of_the_middleware(sandbox: pytest.Pytester) -> None:
    sandbox.makepyfile(
        mymiddleware=(
            "from perftoolkit.middleware import QueryBudgetMiddleware\n\n\n"
            "class Measured(QueryBudgetMiddleware):\n    pass\n"
        ),
        settings=SETTINGS.replace(
            '["perftoolkit.middleware.QueryBudgetMiddleware"]', '["mymiddleware.Measured"]'
        ),
    )
    _run(sandbox, "--perf-budgets").assert_outcomes(passed=4)


def test_perf_budgets_without_a_file_use_querycount_thresholds(sandbox: pytest.Pytester) -> None:
    (sandbox.path / "perf-budgets.toml").unlink()
    sandbox.makepyfile(
        settings=SETTINGS + 'QUERYCOUNT = {"THRESHOLDS": {"MEDIUM": 2, "HIGH": 3}}\n'
    )
    result = _run(sandbox, "--perf-budgets", "-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["perf-budgets.toml::GET count/ PASSED*"])
    result.stdout.fnmatch_lines(["perf-budgets.toml::GET users/ FAILED*"])
    result.stdout.fnmatch_lines(
        [
            # fnmatch reads [...] as a character class: the brackets are matched by *.
            "GET users/ is over budget: queries 4 > 3 (+1). (budget: QUERYCOUNT*HIGH*)",
            "perftoolkit: No perf-budgets.toml: every endpoint is judged against django-querycount's "
            "QUERYCOUNT*HIGH*= 3 queries. Move it to perf-budgets.toml*",
        ]
    )
