"""A read that modifies the session: its save is a write on read named after the line that
modified the session (Django saves it in library code, as the response goes out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from perftoolkit.conf import reset_settings
from perftoolkit.core.findings import Finding
from perftoolkit.middleware.recording import build_report
from tests.support.corpus import findings_for, line_of, recorded_lines

VIEWS = "tests/views.py"
SESSIONS = [
    "perftoolkit.middleware.QueryBudgetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
]

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.mariadb]


@pytest.fixture(autouse=True)
def _sessions(settings: Any) -> None:
    settings.MIDDLEWARE = SESSIONS


def _writes(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "write_on_read"]


def test_an_anonymous_read_that_modifies_the_session_names_the_line_that_did() -> None:
    [finding] = _writes(findings_for("/mw/visits/"))
    line = line_of(VIEWS, "# case: session_modified")
    assert str(finding.callsite) == f"{VIEWS}:{line}"
    assert finding.callsite is not None
    assert finding.callsite.function == "visits"
    assert finding.message == (
        "GET mw/visits/ saves the session: INSERT on django_session, because the session was "
        f"modified at {VIEWS}:{line} (visits). Every such read writes a row (an anonymous "
        "visitor's creates a session), and its response sets a cookie, so it is not cached."
    )
    assert finding.fix is not None
    assert finding.fix.code.startswith("modify the session only in the POST/PUT handler")
    assert finding.model == "sessions.Session"


def test_the_next_read_updates_the_session_and_is_named_the_same() -> None:
    client = Client()
    findings_for("/mw/visits/", client)
    [finding] = _writes(findings_for("/mw/visits/", client))
    assert finding.message.startswith("GET mw/visits/ saves the session: UPDATE on django_session")
    assert str(finding.callsite) == f"{VIEWS}:{line_of(VIEWS, '# case: session_modified')}"
    assert client.get("/mw/reads-session/").json() == {"visits": 2}  # the session still works


def test_a_read_that_leaves_the_session_as_it_was_writes_nothing() -> None:
    client = Client()
    client.get("/mw/visits/")
    assert _writes(findings_for("/mw/reads-session/", client)) == []


def test_a_session_saved_on_every_request_is_a_write_with_no_line_and_does_not_hide_a_change(
    settings: Any,
) -> None:
    """SESSION_SAVE_EVERY_REQUEST saves a session nothing modified: the write has no line to
    name. The same statement's save after a change is still named after that change (the first
    run is not reused from the request that changed nothing)."""
    settings.SESSION_SAVE_EVERY_REQUEST = True
    client = Client()
    client.get("/mw/visits/")
    [unchanged] = _writes(findings_for("/mw/reads-session/", client))
    assert unchanged.callsite is None
    assert unchanged.message.startswith(
        "GET mw/reads-session/ writes: UPDATE on django_session. A read should not change rows"
    )
    [changed] = _writes(findings_for("/mw/visits/", client))
    assert str(changed.callsite) == f"{VIEWS}:{line_of(VIEWS, '# case: session_modified')}"
    assert "because the session was modified" in changed.message


def test_a_session_a_library_modified_names_the_library_line_from_its_package(
    settings: Any,
) -> None:
    """Django's CSRF middleware storing the token in the session (CSRF_USE_SESSIONS): no project
    line modified it, so the library's line is named, by its path in its package."""
    settings.MIDDLEWARE = [*SESSIONS, "django.middleware.csrf.CsrfViewMiddleware"]
    settings.CSRF_USE_SESSIONS = True
    [finding] = _writes(findings_for("/mw/csrf-token/"))
    assert finding.callsite is not None
    assert (finding.callsite.file, finding.callsite.function) == (
        "django/middleware/csrf.py",
        "_set_csrf_cookie",
    )
    assert finding.message.startswith(
        "GET mw/csrf-token/ saves the session: INSERT on django_session, because the session was "
        f"modified at django/middleware/csrf.py:{finding.callsite.line} (_set_csrf_cookie)."
    )


def test_messages_kept_in_the_session_are_fixed_with_the_message_storage(settings: Any) -> None:
    """Django's messages in the session (MESSAGE_STORAGE SessionStorage): the framework's own
    line changes the session; the fix is the storage, not the view."""
    settings.MIDDLEWARE = [*SESSIONS, "django.contrib.messages.middleware.MessageMiddleware"]
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    [finding] = _writes(findings_for("/mw/flash/"))
    assert finding.callsite is not None
    assert finding.callsite.file == "django/contrib/messages/storage/session.py"
    assert finding.fix is not None
    assert (finding.fix.action, finding.fix.code) == (
        "setting",
        'MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"',
    )
    assert finding.message.startswith(
        "GET mw/flash/ saves the session: INSERT on django_session, because Django's messages are "
        "kept in it (MESSAGE_STORAGE SessionStorage) at django/contrib/messages/storage/session.py:"
    )


def test_the_session_behaves_as_without_perftoolkit(settings: Any) -> None:
    """The tracking keeps `modified` where Django keeps it, on the session itself."""
    client = Client()
    assert [client.get("/mw/visits/").json()["visits"] for _ in range(3)] == [1, 2, 3]
    session = client.session
    assert session.modified is False
    session["x"] = 1
    assert (session.modified, session.__dict__["modified"]) == (True, True)
    assert type(SessionBase.__dict__["modified"]).__name__ == "_Modified"  # tracked, and still so
    settings.PERFTOOLKIT = {"MODE": "off"}
    reset_settings()
    assert client.get("/mw/visits/").json() == {"visits": 4}


def test_the_recorded_line_and_the_report_name_the_line(tmp_path: Path) -> None:
    record_dir = tmp_path / "rec"
    [line] = recorded_lines(record_dir, "/mw/visits/")
    # Every statement of the save (the new key's check, its savepoint, the INSERT) is the
    # change's; the request ran no other.
    saved = [row for row in line["queries"] if len(row) > 6 and row[6].get("session")]
    assert len(saved) == len(line["queries"])
    verbs = [line["statements"][row[0]].split()[0] for row in saved]
    assert verbs.count("INSERT") == 1
    assert {row[2] for row in saved} == {0}
    site = line["sites"][0]
    assert site == {
        "file": VIEWS,
        "line": line_of(VIEWS, "# case: session_modified"),
        "function": "visits",
    }
    run = build_report(record_dir)
    [finding] = [f for f in run.findings if f.kind == "write_on_read"]
    assert (finding.route, finding.repeats) == ("mw/visits/", 1)
    assert str(finding.callsite) == f"{VIEWS}:{site['line']}"
    assert "because the session was modified" in finding.message
