"""Exact duplicates: the same statement with the same parameters, more than once in a request."""

from __future__ import annotations

from collections import defaultdict

from perftoolkit.core.diagnosis.fixes import short
from perftoolkit.core.diagnosis.nplusone import change_list, is_per_row
from perftoolkit.core.events import QueryEvent, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, Fix
from perftoolkit.core.fingerprint import is_count, normalize, repeat_keys, statement_kind

_IGNORED_KINDS = frozenset(
    {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK", "SET", "SHOW", ""}
)


def detect_duplicates(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    groups: dict[object, list[QueryEvent]] = defaultdict(list)
    per_row: dict[tuple[str, object], list[QueryEvent]] = defaultdict(list)
    keys = repeat_keys((q.sql, q.params_key) for q in profile.queries)
    for query, key in zip(profile.queries, keys, strict=True):
        if key is None or statement_kind(query.sql) in _IGNORED_KINDS:
            continue
        groups[key].append(query)
        per_row[(query.sql, query.callsite)].append(query)
    findings = []
    for events in groups.values():
        if len(events) < options.duplicate_threshold:
            continue
        if any(
            is_per_row(per_row[(e.sql, e.callsite)], options.nplusone_threshold) for e in events
        ):
            continue  # part of an N+1: that finding's fix removes these too
        first = events[0]
        site = next((e.callsite for e in events if e.callsite), None)
        sites = list(dict.fromkeys(str(e.callsite) for e in events if e.callsite))
        # With no line to name (library code ran it: Django's admin counting its rows twice), the
        # statement is what tells the reader which query it is.
        where = f" at {' and '.join(sites)}" if sites else f" ({_short(normalize(first.sql))})"
        # A function's line; not a declaration (`StepSerializer.ingredients`, a serializer's field).
        in_function = (
            site is not None
            and site.file.endswith(".py")
            and bool(site.function)
            and "." not in site.function
        )
        reuse = f"in {site.function}()" if site and in_function else "once"
        fix = Fix(
            action="cache",
            code=f"compute the result {reuse} and reuse it (a variable, @cached_property, or the cache)",
        )
        relation = next((e.relation for e in events if e.relation is not None), None)
        if relation is not None and relation.kind in ("forward", "reverse_one"):
            # Rows that point at the same related row, each loading it (fewer rows than an N+1
            # needs): the fix is the N+1's.
            fix = Fix(
                action="select_related",
                code=f'.select_related("{relation.field}")',
                note=f"each {relation.model.rsplit('.', 1)[-1]} row loaded its {relation.field} "
                "again: load it with the rows.",
            )
        elif _full_count(profile, events):
            fix = Fix(
                action="admin_option",
                code="show_full_result_count = False",
                note="a ModelAdmin's change list counts the rows it lists, then every row of the "
                'model for its "N results (M total)": with no filter they are the same count. '
                "show_full_result_count = False in the ModelAdmin leaves the second out.",
            )
        rows = ""
        if first.model:
            rows = f" {'counting' if is_count(first.sql) else 'of'} {short(first.model)} rows"
        findings.append(
            Finding(
                kind="duplicate_query",
                method=profile.method,
                route=profile.route,
                model=first.model,
                repeats=len(events),
                fingerprint=first.fingerprint,
                sql_example=normalize(first.sql),
                callsite=site,
                fix=fix,
                severity="warning",
                message=(
                    f"The same query{rows} with the same parameters ran {len(events)} "
                    f"times{where}; "
                    "run it once and reuse the result."
                ),
            )
        )
    return findings


def _short(sql: str, limit: int = 100) -> str:
    return sql if len(sql) <= limit else sql[: limit - 1].rstrip() + "…"


def _full_count(profile: RequestProfile, events: list[QueryEvent]) -> bool:
    """A change list's two counts of its rows: a COUNT that Django's code ran (a paginator's,
    the change list's), never a project line."""
    return (
        change_list(profile)
        and all(e.handed_off or e.callsite is None for e in events)
        and "COUNT(" in normalize(events[0].sql).upper()
    )
