"""Each path of a scaffolded profile asked once before it goes in.

The values that fill a route come from real rows, but a row can still make a poor example: a
chooser that expects another kind of object, a `find/` endpoint that needs a query string, a
test page that raises on purpose. A profile holding such paths would only fail under load (and an
audit with failures over --max-failure-rate is incomplete), so every GET path is requested once,
the way the profile's users will (same login, redirects followed), inside transactions that are
rolled back; a path that ends at 4xx or 5xx, in a redirect loop or off the site is left out, and a
route left with none is listed with the answer it got.

What a path did is watched too, since the load test would do it again and again, for real:
- a path that reaches another machine over the network (an API it calls, a feed it fetches) is
  left out: the load test would call it on every request;
- a path whose answer clears a cookie of the profile's login (a logout under another name) is left
  out, and every probe starts from the login's own cookies, so that one such page does not turn
  every later probe anonymous;
- a path that deletes rows or changes what they say (a DELETE; an UPDATE of any column but a
  time or a number: text, a flag, a foreign key, as a whole row's save() sets) is left out unless
  --writes asks for writes: a GET that restores a revision or marks notifications read would
  change the data under load. Rows added (a page view logged, a thumbnail's cache entry) and
  times and counts noted (`last_seen`, `views + 1`) are kept,
  and said; the sessions' and a database cache's tables are not the project's data; and a write
  every probed page makes (a middleware noting the visit) is the site's, not the page's.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.test import Client

from perftoolkit.conf import override_mode
from perftoolkit.core.fingerprint import fingerprint, is_write, statement_kind, tables
from perftoolkit.core.runs.profiles import ProfileLogin, ProfileTask, SkippedRoute
from perftoolkit.middleware.capture.capture import TimingCapture
from perftoolkit.middleware.capture.frames import raised_at
from perftoolkit.middleware.capture.rollback import rolled_back

logger = logging.getLogger("perftoolkit")
_MAX_REDIRECTS = 5
# Told after each path asked: (paths asked, paths to ask).
ProbeProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class _Answer:
    """What asking a path once gave: the status it ended at (or why it did not end), what the view
    raised, the writes it made (fingerprint → "UPDATE on table"), and whether it cleared a cookie
    of the login."""

    status: int | str
    raised: str = ""
    writes: tuple[tuple[str, str], ...] = ()
    logged_out: str = ""
    reaches: tuple[str, ...] = ()  # hosts outside the site it connected to (or looked up)

    @property
    def ok(self) -> bool:
        return (
            isinstance(self.status, int)
            and self.status < 400
            and not self.logged_out
            and not self.reaches
        )


def probe_tasks(
    tasks: Sequence[ProfileTask],
    login: ProfileLogin,
    *,
    writes: bool = False,
    progress: ProbeProgress | None = None,
) -> tuple[list[ProfileTask], list[SkippedRoute]]:
    """The tasks with only the GET paths that answered below 400 without ending the login's
    session (nor writing rows, unless `writes`), and the routes left with none. `progress` is
    told after each path (a project's thousand pages take minutes)."""
    client = Client(raise_request_exception=False, SERVER_NAME=_host(), headers=dict(login.headers))
    answered: list[tuple[ProfileTask, list[tuple[str, _Answer]]]] = []
    total = sum(len(t.paths) for t in tasks if t.method == "GET")
    asked = 0
    # The scaffold's own requests are neither findings of the project nor errors of its logs.
    with override_mode("off"), _quiet("django.request"), _quiet("django.server"):
        for task in tasks:
            if task.method != "GET":
                answered.append((task, []))
                continue
            answers = []
            for path in task.paths:
                answers.append((path, _ask(client, path, login)))
                asked += 1
                if progress is not None:
                    progress(asked, total)
            answered.append((task, answers))
    sitewide = _sitewide_writes([a for _, answers in answered for _, a in answers if a.ok])
    kept: list[ProfileTask] = []
    skipped: list[SkippedRoute] = []
    for task, answers in answered:
        if task.method != "GET":
            kept.append(task)
            continue
        good = tuple(
            path
            for path, answer in answers
            if answer.ok and (writes or not _own_writes(answer, sitewide))
        )
        if good:
            kept.append(task if len(good) == len(task.paths) else replace(task, paths=good))
            continue
        path, answer = next(((p, a) for p, a in answers if a.ok), answers[0])
        skipped.append(SkippedRoute(task.method, task.route, _why(path, answer, sitewide)))
    return kept, skipped


def _why(path: str, answer: _Answer, sitewide: frozenset[str]) -> str:
    """Why a route has no path left, said of its first path."""
    asked = "with the values found (asked once when the profile was written)"
    if answer.reaches:
        return (
            f"its answer at {path} reaches {', '.join(answer.reaches)} over the network: a "
            f"load test would call it on every request ({asked})"
        )
    if answer.logged_out:
        return (
            f"its answer at {path} clears the login's {answer.logged_out} cookie: a load test's "
            f"users would be logged out ({asked})"
        )
    own = _own_writes(answer, sitewide)
    if isinstance(answer.status, int) and answer.status < 400 and own:
        return (
            f"a GET that writes ({', '.join(own)}) at {path} {asked}: a load test would change "
            "your data (--writes keeps it)"
        )
    why = f" ({answer.raised})" if answer.raised else ""
    verb = "answered" if isinstance(answer.status, int) else "ended in"
    return f"{verb} {answer.status}{why} at {path} {asked}"


def _sitewide_writes(answers: list[_Answer]) -> frozenset[str]:
    """The writes every page made when asked (three at least): the site's own, not a page's."""
    if len(answers) < 3:
        return frozenset()
    common = {fp for fp, _ in answers[0].writes}
    for answer in answers[1:]:
        common &= {fp for fp, _ in answer.writes}
    return frozenset(common)


def _own_writes(answer: _Answer, sitewide: frozenset[str]) -> list[str]:
    return list(dict.fromkeys(what for fp, what in answer.writes if fp not in sitewide))


def _ask(client: Client, path: str, login: ProfileLogin) -> _Answer:
    """Ask once, from the login's own cookies (what an earlier probe's answer set or cleared is
    not carried over), watching what the request writes."""
    client.cookies.clear()
    for name, value in login.cookies:
        client.cookies[name] = value
    names = {name for name, _ in login.cookies}
    with TimingCapture() as capture, _network() as reached:
        status, raised, logged_out = _status(client, path, names)
    return _Answer(status, raised, _writes_of(capture.queries), logged_out, tuple(sorted(reached)))


_LOCAL = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})


@contextmanager
def _network() -> Iterator[set[str]]:
    """The hosts outside this machine and the project's own databases and caches that the block
    looks up or connects to (an API a page calls, a remote feed): a load test must not hammer
    them. Lookups count too, since a machine without a route fails there first."""
    own = _own_hosts()
    reached: set[str] = set()

    def note(host: Any, port: Any) -> None:
        name = str(host or "").strip("[]").lower()
        if name not in own and not name.startswith("127.") and name not in _LOCAL:
            reached.add(f"{name}:{port}" if port else name)

    lookup, connect, connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        note(host, port)
        return lookup(host, port, *args, **kwargs)

    def watched(method: Any) -> Any:
        def call(self: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and address:  # AF_UNIX paths are this machine's
                note(address[0], address[1] if len(address) > 1 else None)
            return method(self, address)

        return call

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = watched(connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = watched(connect_ex)  # type: ignore[method-assign]
    try:
        yield reached
    finally:
        socket.getaddrinfo = lookup
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def _own_hosts() -> frozenset[str]:
    """The hosts of the project's databases and caches (a database on another machine is the
    site's own, not a page's call out)."""
    hosts = {str(db.get("HOST") or "").lower() for db in settings.DATABASES.values()}
    for cache in getattr(settings, "CACHES", {}).values():
        locations = cache.get("LOCATION") or ()
        for location in [locations] if isinstance(locations, str) else locations:
            parsed = urlsplit(str(location) if "://" in str(location) else f"//{location}")
            if parsed.hostname:
                hosts.add(parsed.hostname.lower())
    return frozenset(hosts)


def _writes_of(queries: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    """The writes that delete rows or change what they hold, by fingerprint: "UPDATE on t"."""
    ignored = _ignored_tables()
    found: dict[str, str] = {}
    for query in queries:
        sql = query.sql
        if not is_write(sql) or statement_kind(sql) == "INSERT":
            continue
        written = [t for t in tables(sql) if t not in ignored]
        if written and not _notes_a_time(sql):
            found.setdefault(fingerprint(sql), f"{statement_kind(sql)} on {', '.join(written)}")
    return tuple(found.items())


_UPDATE = re.compile(
    r"^\s*UPDATE\s+([`\"]?)([\w.]+)\1\s+SET\s+(.*?)(?:\s+WHERE\s+.*)?$", re.I | re.S
)
_ASSIGNED = re.compile(r"^\s*[`\"]?(\w+)[`\"]?\s*=\s*(.*)$", re.S)
# Columns whose update notes a time or a count (`last_seen`, `views`, `usage_today`), not what a
# row says: no text, flag, choice of a related row or key.
_COUNTS_AND_TIMES = frozenset(
    {
        "DateTimeField",
        "DateField",
        "TimeField",
        "DurationField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "FloatField",
    }
)


def _notes_a_time(sql: str) -> bool:
    """An UPDATE that only sets times or counts of its rows (`last_login`, `views = views + 1`, a
    daily usage reset): repeated under load, it changes nothing a page says but those."""
    match = _UPDATE.match(sql)
    if match is None:
        return False
    table, assignments = match.group(2), _top_level(match.group(3))
    fields = _columns(table)
    if not fields or not assignments:
        return False
    for assignment in assignments:
        parts = _ASSIGNED.match(assignment)
        if parts is None:
            return False
        if fields.get(parts.group(1)) not in _COUNTS_AND_TIMES:
            return False
    return True


def _top_level(text: str) -> list[str]:
    """`text` split at its commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _columns(table: str) -> dict[str, str]:
    """The columns of the model whose table is `table`, with their field classes' names."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return {
                str(f.column): f.get_internal_type()
                for f in model._meta.concrete_fields
                if f.column
            }
    return {}


def _ignored_tables() -> frozenset[str]:
    """Tables a GET may write without changing the project's data: the sessions' (a session is
    the request's own) and those of the database caches (a cache fills as it is read)."""
    names = {
        str(cache.get("LOCATION"))
        for cache in getattr(settings, "CACHES", {}).values()
        if str(cache.get("BACKEND", "")).endswith("DatabaseCache")
    }
    if apps.is_installed("django.contrib.sessions"):
        names.add(apps.get_model("sessions", "Session")._meta.db_table)
    return frozenset(names)


def _status(client: Client, path: str, login_cookies: set[str]) -> tuple[int | str, str, str]:
    """The status the path ends at, following redirects as Locust's client does (a redirect
    loop or one that leaves the site is an answer of its own: a load test must not chase it),
    what the view raised, if it did, and the login cookie an answer cleared, if one did."""
    seen = {path}
    for _ in range(_MAX_REDIRECTS):
        with _rolled_back():
            try:
                response = client.get(path)
            except Exception as exc:  # the client itself failed (a broken middleware, say)
                logger.debug("perftoolkit: scaffold probe of %s failed", path, exc_info=True)
                return 500, raised_at(exc), ""
            status = int(response.status_code)
            exc_info = getattr(response, "exc_info", None)
            raised = raised_at(exc_info[1]) if exc_info and exc_info[1] is not None else ""
            location = response.get("Location", "") if 300 <= status < 400 else ""
            cleared = _cleared(response, login_cookies)
            _close(response)
        if cleared:
            return status, raised, cleared
        if not location:
            return status, raised, ""
        target = urlsplit(urljoin(f"http://{_host()}{path}", location))
        if target.hostname not in (_host(), None):
            return f"a redirect off the site (to {target.hostname})", "", ""
        path = target.path + (f"?{target.query}" if target.query else "")
        if path in seen:
            return "a redirect loop", "", ""
        seen.add(path)
    return f"more than {_MAX_REDIRECTS} redirects", "", ""


def _cleared(response: Any, names: set[str]) -> str:
    """The login cookie the response deletes or empties (Django's delete_cookie: an empty value
    that expires at once), or ""."""
    for name in sorted(names):
        morsel = response.cookies.get(name)
        if morsel is not None and (not morsel.value or str(morsel["max-age"]) == "0"):
            return name
    return ""


def _close(response: Any) -> None:
    """Close a response the client left open (a stream not read), as the test client closes the
    others: without Django's close_old_connections, which would close a connection in a
    transaction (the probe's), and so every later probe's."""
    if getattr(response, "closed", False):
        return
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _rolled_back() -> AbstractContextManager[None]:
    """Whatever a GET writes (a session, a counter, a rendition) is undone, on the default
    database and every other one this process has connected to (the scaffold read its rows
    there)."""
    return rolled_back(
        {DEFAULT_DB_ALIAS}
        | {c.alias for c in connections.all(initialized_only=True) if c.connection is not None}
    )


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def _host() -> str:
    """A host name the project accepts (ALLOWED_HOSTS), as its users' requests would carry."""
    for host in getattr(settings, "ALLOWED_HOSTS", []) or []:
        name = str(host).lstrip(".")
        if name and name != "*" and "*" not in name:
            return name.split(":")[0]
    return "localhost"
