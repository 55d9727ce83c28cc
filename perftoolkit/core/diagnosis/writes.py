"""Writes during GET/HEAD: a read request that changes rows (a property that saves, a counter)."""

from __future__ import annotations

from collections import defaultdict

from perftoolkit.core.events import CallSite, QueryEvent, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, Fix
from perftoolkit.core.fingerprint import WRITE_KINDS, normalize, statement_kind, tables

SAFE_METHODS = frozenset({"GET", "HEAD"})
# Where Django's SessionStorage of messages changes the session (a library site's path).
_SESSION_MESSAGES = "django/contrib/messages/storage/"


def detect_writes_on_read(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    if profile.method not in SAFE_METHODS:
        return []
    groups: dict[tuple[str, CallSite | None], list[QueryEvent]] = defaultdict(list)
    for query in profile.queries:
        if statement_kind(query.sql) in WRITE_KINDS:
            groups[(query.fingerprint, query.callsite)].append(query)
    findings = []
    for (_, site), events in groups.items():
        first = events[0]
        verb = statement_kind(first.sql)
        table = ", ".join(tables(first.sql)) or "a table"
        where = f" at {site} ({site.function})" if site else ""
        caller = first.caller
        if caller is not None and site is not None:
            where += f", called from {caller} ({caller.function})"
        if first.session and site is not None and site.file.startswith(_SESSION_MESSAGES):
            # Messages kept in the session: showing them removes them, which saves the session.
            fix = Fix(
                action="setting",
                code='MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"',
                note="Django's default: messages that fit in a cookie are kept there, and a read "
                "that shows them saves no session",
            )
            message = (
                f"{profile.method} {profile.route} saves the session: {verb} on {table}, because "
                f"Django's messages are kept in it (MESSAGE_STORAGE SessionStorage){where}: a "
                "read that shows them removes them from the session, which is saved."
            )
        elif first.session:
            # Library code saved the session as the response went out; `site` modified it.
            fix = Fix(
                action="move_write",
                code="modify the session only in the POST/PUT handler that changes the state, or "
                "only when the value it stores changes: a session left as it was is not saved",
            )
            message = (
                f"{profile.method} {profile.route} saves the session: {verb} on {table}, because "
                f"the session was modified{where}. Every such read writes a row (an anonymous "
                "visitor's creates a session), and its response sets a cookie, so it is not "
                "cached."
            )
        else:
            fix = Fix(
                action="move_write",
                code="move the write out of the read path: do it in the POST/PUT handler that "
                "changes the state, or in a scheduled task",
            )
            message = (
                f"{profile.method} {profile.route} writes: {verb} on {table}{where}. "
                "A read should not change rows; it also makes the response uncacheable."
            )
        findings.append(
            Finding(
                kind="write_on_read",
                method=profile.method,
                route=profile.route,
                model=first.model,
                repeats=len(events),
                fingerprint=first.fingerprint,
                sql_example=normalize(first.sql),
                callsite=site,
                fix=fix,
                severity="error",
                message=message,
            )
        )
    return findings
