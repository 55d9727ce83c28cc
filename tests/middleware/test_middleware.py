from __future__ import annotations

import json
import logging
import logging.config
from pathlib import Path

import pytest
from django.test import Client, override_settings

from perftoolkit.conf import override_mode, reset_settings
from perftoolkit.core.events import RequestProfile
from perftoolkit.exceptions import NPlusOneDetected
from perftoolkit.middleware.capture import failures
from perftoolkit.middleware.recording import build_report
from perftoolkit.reporting.schema import run_to_dict
from tests.corpus.data import seed
from tests.support.corpus import collected_findings
from tests.support.recordings import written_lines

pytestmark = [pytest.mark.django_db(databases=["default", "other"]), pytest.mark.mariadb]
ALL = ["default", "other"]


@pytest.fixture(autouse=True)
def _data(db: None) -> None:
    seed()


@pytest.fixture
def record_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    return directory


def test_middleware_off_adds_nothing() -> None:
    response = Client().get("/mw/three/")
    assert response.status_code == 200
    assert "X-Perf-Queries" not in response


@pytest.mark.postgres
def test_middleware_header_counts_sync() -> None:
    with override_mode("header"):
        response = Client().get("/mw/three/")
    assert response["X-Perf-Queries"] == "3"
    assert response["Server-Timing"].startswith("db;dur=")
    assert response["Server-Timing"].endswith('desc="3 queries"')


def test_middleware_counts_every_alias() -> None:
    with override_mode("header"):
        response = Client().get("/mw/aliases/")
    assert response.json() == {"default": 3, "other": 0}
    assert response["X-Perf-Queries"] == "2"


def test_middleware_no_queries_view() -> None:
    with override_mode("header"):
        response = Client().get("/mw/none/")
    assert response["X-Perf-Queries"] == "0"


@override_settings(PERFTOOLKIT={"MODE": "header", "IGNORE_PATHS": [r"^/static/"]})
def test_middleware_ignored_paths_are_not_measured() -> None:
    assert "X-Perf-Queries" not in Client().get("/static/skip/")
    assert Client().get("/mw/three/")["X-Perf-Queries"] == "3"


def test_middleware_raise_mode_raises_with_fix() -> None:
    with override_mode("raise"), pytest.raises(NPlusOneDetected) as info:
        Client().get("/corpus/fk/")
    message = str(info.value)
    assert message.startswith("GET corpus/fk/ ran 7 queries and shows 1 problem:")
    assert '.select_related("author")' in message


def test_middleware_raise_mode_quiet_on_clean_view() -> None:
    with override_mode("raise"):
        assert Client().get("/corpus/eager_full/").status_code == 200


def test_middleware_log_mode_logs_one_line_per_finding(caplog: pytest.LogCaptureFixture) -> None:
    with override_mode("log"), caplog.at_level(logging.WARNING, logger="perftoolkit"):
        Client().get("/corpus/chain2/")
    lines = [r.getMessage() for r in caplog.records if r.name == "perftoolkit"]
    assert len(lines) == 1
    assert lines[0].startswith("perftoolkit: GET corpus/chain2/: N+1: Review.book → Book.author")


def test_log_mode_speaks_after_logging_config_disabled_existing_loggers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A project's LOGGING with `disable_existing_loggers: True`, applied after perftoolkit's
    logger exists (runserver applies it twice), does not silence MODE "log"."""
    logger = logging.getLogger("perftoolkit")
    existing = [
        (item, item.disabled)
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": True})
    try:
        assert logger.disabled
        with override_mode("log"), caplog.at_level(logging.WARNING, logger="perftoolkit"):
            Client().get("/corpus/chain2/")
        lines = [r.getMessage() for r in caplog.records if r.name == "perftoolkit"]
        assert (logger.disabled, len(lines)) == (False, 1)
    finally:
        for item, disabled in existing:
            item.disabled = disabled


def test_middleware_sends_findings_signal() -> None:
    with collected_findings() as found, override_mode("log"):
        Client().get("/corpus/count/")
    assert [f.kind for f in found] == ["n_plus_one"]


def test_middleware_records_one_line_per_request(record_dir: Path) -> None:
    client = Client()
    client.get("/mw/three/")
    client.get("/mw/regex/12/")
    lines = written_lines(record_dir)
    assert len(list(record_dir.glob("*.jsonl"))) == 1
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["method"], first["route"], first["status"]) == ("GET", "mw/three/", 200)
    assert first["view"] == "tests.views.three_queries"
    assert len(first["queries"]) == 3
    assert second["route"] == "mw/regex/<pk>/"
    environment = json.loads((record_dir / "environment.json").read_text())
    assert set(environment) == {"python", "django", "perftoolkit", "database"}


@override_settings(ROOT_URLCONF="tests.auditsite.urls")
def test_middleware_records_site_root_as_slash(record_dir: Path) -> None:
    Client().get("/")
    [line] = written_lines(record_dir)
    assert json.loads(line)["route"] == "/"


def test_middleware_recording_keeps_parameters_local(record_dir: Path) -> None:
    Client().get("/mw/lookup/", {"name": "secret-4711"})
    [text] = written_lines(record_dir)
    line = json.loads(text)
    # The request's own query string is kept for perf_fix's replay; the statements and their
    # parameters are not: values stay in samples/, for EXPLAIN only, and out of any report.
    assert line.pop("query") == "name=secret-4711"
    assert "secret-4711" not in json.dumps(line)
    assert "secret-4711" not in json.dumps(run_to_dict(build_report(record_dir)))
    samples = [json.loads(p.read_text()) for p in (record_dir / "samples").glob("*.json")]
    assert ["secret-4711"] in [s["params"] for s in samples]
    first, second = RequestProfile.from_dict(json.loads(text)).queries
    assert first.params_key is not None
    assert first.params_key == second.params_key


def test_middleware_recording_off_mode_records(record_dir: Path) -> None:
    response = Client().get("/mw/three/")
    assert "X-Perf-Queries" not in response  # mode stays off: recording alone is on
    assert len(written_lines(record_dir)) == 1


def test_middleware_records_failed_request(record_dir: Path) -> None:
    client = Client(raise_request_exception=False)
    assert client.get("/mw/failing/").status_code == 500
    [line] = written_lines(record_dir)
    assert json.loads(line)["status"] == 500


@override_settings(PERFTOOLKIT={"MODE": "log", "DETECTORS": ["tests.detectors.broken"]})
def test_middleware_detector_failure_never_fails_request(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures.reset()
    with caplog.at_level(logging.DEBUG, logger="perftoolkit"):
        first = Client().get("/mw/three/")
        second = Client().get("/mw/three/")
    assert (first.status_code, second.status_code) == (200, 200)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # logged once per process
    assert "detector bug" in str(errors[0].exc_info[1])  # type: ignore[index]


@override_settings(PERFTOOLKIT={"MODE": "raise", "DETECTORS": ["tests.detectors.broken"]})
def test_middleware_detector_failure_raises_in_raise_mode() -> None:
    with pytest.raises(RuntimeError, match="detector bug"):
        Client().get("/mw/three/")


def test_middleware_recorder_failure_never_fails_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(blocker / "rec"))
    failures.reset()
    reset_settings()
    assert Client().get("/mw/three/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/corpus/chain2/",
        "/corpus/template_loop/",
        "/corpus/drf/lookup-exists/",
        "/mw/aliases/",
        "/corpus/partial_select/",
        "/corpus/drf/wrapped/",
        "/corpus/ordered_count/",
    ],
)
def test_profile_dict_equals_build_profile(path: str) -> None:
    """The recorder's fast path writes exactly what RequestProfile.to_dict() would."""
    from perftoolkit.core.events import RequestProfile
    from perftoolkit.middleware.capture.capture import capture_queries
    from perftoolkit.middleware.capture.profile import build_profile, profile_dict

    with capture_queries() as capture:
        Client().get(path)
    meta = {
        "method": "GET",
        "route": "r/",
        "view": "v",
        "status": 200,
        "started_at": 1.5,
        "duration_ms": 2.25,
    }
    fast = profile_dict(capture, **meta)  # type: ignore[arg-type]
    slow = build_profile(capture, **meta)  # type: ignore[arg-type]
    assert fast == slow.to_dict()
    assert RequestProfile.from_dict(json.loads(json.dumps(fast))).to_dict() == fast


def test_profile_dict_quotes_a_filtered_read_that_ran_once() -> None:
    """A lazy `.filter().count()` on one row: its fix repeats the filter, so its line is quoted
    in both encodings (a plain read of the relation is not)."""
    from perftoolkit.middleware.capture.capture import capture_queries
    from perftoolkit.middleware.capture.profile import build_profile, profile_dict
    from tests.corpus.models import Book

    pk = Book.objects.order_by("id").first().pk  # type: ignore[union-attr]
    with capture_queries() as capture:
        Client().get(f"/corpus/detail_lazy/{pk}/")
    meta = {"method": "GET", "route": "r/", "view": "v", "status": 200}
    fast = profile_dict(capture, **meta)  # type: ignore[arg-type]
    slow = build_profile(capture, **meta)  # type: ignore[arg-type]
    assert fast == slow.to_dict()
    assert [q.source for q in slow.queries] == [
        None,
        None,
        None,
        None,
        # the whole statement: the read is on a line of a longer one
        "return JsonResponse(\n"
        "    {\n"
        '        "country": book.author.publisher.country.name,  # case: detail_lazy\n'
        '        "good": book.reviews.filter(approved=True).count(),  # case: detail_lazy_count\n'
        "    }\n"
        ")",
    ]


def test_profile_marks_queryset_handed_to_library() -> None:
    """The paginator ran the rows' query: the view's line only handed the queryset over."""
    from perftoolkit.core.events import QueryEvent
    from perftoolkit.middleware.capture.capture import capture_queries
    from perftoolkit.middleware.capture.profile import build_profile

    with capture_queries() as capture:
        Client().get("/corpus/drf/wrapped/")
    profile = build_profile(capture, method="GET", route="r/")
    roots = [q for q in profile.queries if q.model == "corpus.Book"]
    assert [q.handed_off for q in roots] == [True, True]  # the page's COUNT, then its rows
    assert [QueryEvent.from_dict(q.to_dict()).handed_off for q in roots] == [True, True]


@pytest.mark.parametrize("location", ["one", "two"])
def test_middleware_counts_cache_gets_and_hits(record_dir: Path, location: str) -> None:
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": location,
        }
    }
    with override_settings(CACHES=caches):  # a new cache configuration is counted too
        Client().get("/mw/cached/")
    [line] = written_lines(record_dir)
    assert json.loads(line)["cache"] == {"gets": 4, "hits": 2}


def test_log_mode_diagnoses_each_request_shape_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perftoolkit.middleware import detectors
    from perftoolkit.signals import findings_detected

    diagnosed: list[str] = []
    real = detectors.diagnose

    def counting(profile: RequestProfile) -> detectors.Diagnosis:
        diagnosed.append(profile.route)
        return real(profile)

    monkeypatch.setattr(detectors, "diagnose", counting)
    reset_settings()  # no shape known from an earlier test
    received: list[tuple[str, int]] = []

    def listener(
        sender: object, profile: RequestProfile, findings: list[object], **_: object
    ) -> None:
        received.append((profile.route, len(profile.queries)))

    with override_mode("log"), caplog.at_level(logging.WARNING, logger="perftoolkit"):
        for query in ("", "?page=2", "?page=3"):  # one shape: no detector reads the target
            Client().get(f"/corpus/chain2/{query}")
        Client().get("/corpus/fk/")  # another shape
        findings_detected.connect(listener)
        try:
            Client().get("/corpus/chain2/")  # a known shape still gives a listener its profile
        finally:
            findings_detected.disconnect(listener)
    assert diagnosed == ["corpus/chain2/", "corpus/fk/"]
    lines = [r.getMessage() for r in caplog.records if r.name == "perftoolkit"]
    chain = [line for line in lines if line.startswith("perftoolkit: GET corpus/chain2/: N+1")]
    assert len(chain) == 4
    assert len(set(chain)) == 1
    assert [line.split(":")[1] for line in lines].count(" GET corpus/fk/") == 1
    with override_mode("header"):
        count = int(Client().get("/corpus/chain2/")["X-Perf-Queries"])
    assert received == [("corpus/chain2/", count)]


@override_settings(
    MIDDLEWARE=[
        "perftoolkit.middleware.QueryBudgetMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "tests.middleware.passing.HandsOn",
        # library code that loads the user, inside the project middleware's get_response call
        "django.contrib.auth.middleware.RemoteUserMiddleware",
    ],
    AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"],
)
def test_a_project_middleware_handing_the_request_on_is_no_querys_callsite(
    record_dir: Path,
) -> None:
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create_user("reader"))
    client.get("/corpus/fk/")
    [line] = [json.loads(t) for t in written_lines(record_dir)]
    files = {site["file"] for site in line["sites"]}
    assert "tests/middleware/passing.py" not in files
    user = [r for r in line["queries"] if "auth_user" in line["statements"][r[0]]]
    assert user
    assert [r[2] for r in user] == [None] * len(user)


def test_header_mode_without_recording_sets_headers_on_any_request_and_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """MODE "header" with no record directory: the headers are all it does, for a request of
    several statements as for one of none (no hand-over to a recorder that is not there)."""
    failures.reset()
    with (
        override_settings(PERFTOOLKIT={"MODE": "header"}),
        caplog.at_level(logging.DEBUG, logger="perftoolkit"),
    ):
        three, none = Client().get("/mw/three/"), Client().get("/mw/none/")
    assert (three["X-Perf-Queries"], none["X-Perf-Queries"]) == ("3", "0")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
