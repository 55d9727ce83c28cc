"""Relations of one row read lazily: a query each that the row's own query could have joined.

A detail endpoint loads its object with `get()` and then reads `course.instructor`,
`course.instructor.profile`, `course.category` and `course.enrollments.count()`: four more
queries, none of them repeated, so no N+1. `select_related("instructor__profile", "category")`
and `.annotate(student_count=Count("enrollments"))` on the queryset the object came from make them
part of its query.

Only what makes fewer queries is reported: a join (`select_related`) or an annotation. A prefetch
of one row's set is still one query, so a lone `course.tags.all()` is not. The reads must follow a
query that returned one row (`get()`, `first()`: its SQL ends in `LIMIT 21` or `LIMIT 1`) and
together cost at least `MIN_QUERIES`: one lazy foreign key on a detail page is not worth a line.
A read whose statement runs again through the same relation, or with the same parameters, is a
duplicate or an N+1's.
A row whose relation is read per row of an N+1 is left to that finding (its fix nests there).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from perftoolkit.core.diagnosis.fixes import Chain, Step, fix_for, keep_ordering, quotes, short
from perftoolkit.core.diagnosis.nplusone import per_row_groups, rows_origin
from perftoolkit.core.events import QueryEvent, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding
from perftoolkit.core.fingerprint import normalize, statement_kind

# Queries one row's lazy reads must cost together before they are reported.
MIN_QUERIES = 2
_SINGLE = ("forward", "reverse_one")
_SAVING = ("select_related", "annotate")
# `get()` limits to 21 rows (MAX_GET_RESULTS) to report MultipleObjectsReturned; first(), last()
# and `[0]` to one.
_ONE_ROW = re.compile(r"\b(?:LIMIT\s+(?:1|21)|FETCH\s+FIRST\s+(?:1|21)\s+ROWS?\s+ONLY)\s*$", re.I)


@dataclass(frozen=True, slots=True)
class _Read:
    index: int
    root: int  # the index of the one-row query the chain starts from
    path: tuple[int, ...]  # the reads from the root row to this one, in order


def detect_lazy_relations(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    queries = profile.queries
    if len(queries) < 1 + MIN_QUERIES:
        return []
    candidates = [i for i, q in enumerate(queries) if _lazy_read(q)]
    if len(candidates) < MIN_QUERIES:
        return []
    groups = per_row_groups(queries, options.nplusone_threshold)
    per_row = {g.relation.model for g in groups if g.relation is not None}
    grouped = {i for g in groups for i in g.indexes}
    # A read is repeated when its statement ran again through the same relation (the session's
    # user loaded by its id is the same statement as a row's `assigned_to`, and no repeat of it)
    runs = Counter(_read_key(q) for q in queries)
    # The same statement with the same parameters is a duplicate query: that finding says it.
    same: Counter[tuple[str, str | None]] = Counter(
        (q.fingerprint, q.params_key) for q in queries if q.params_key is not None
    )
    reads: dict[int, _Read] = {}
    for index in candidates:
        query = queries[index]
        relation = query.relation
        assert relation is not None
        if (
            runs[_read_key(query)] > 1
            or same[(query.fingerprint, query.params_key)] > 1
            or index in grouped
            or relation.target in per_row
        ):
            continue  # repeated (a duplicate, an N+1) or the root of an N+1's rows
        loader = _loader(queries, index, relation.model)
        if loader is None or loader in grouped:
            continue
        parent = reads.get(loader)
        if parent is not None:
            parent_relation = queries[loader].relation
            assert parent_relation is not None
            if parent_relation.kind in _SINGLE and parent_relation.target == relation.model:
                reads[index] = _Read(index, parent.root, (*parent.path, index))
            continue
        if queries[loader].prefetch or not _ONE_ROW.search(queries[loader].sql.rstrip()):
            continue
        reads[index] = _Read(index, loader, (index,))
    # A chain another one extends is part of it (select_related("a__b") loads a).
    prefixes = {r.path[:n] for r in reads.values() for n in range(1, len(r.path))}
    by_root: dict[int, list[_Read]] = {}
    for read in reads.values():
        if read.path not in prefixes:
            by_root.setdefault(read.root, []).append(read)
    findings: list[Finding] = []
    for root, chains in by_root.items():
        found = [(c, _finding(profile, root, c)) for c in chains]
        saved = {i for c, f in found if f is not None for i in c.path}
        if len(saved) >= MIN_QUERIES:
            findings.extend(f for _, f in found if f is not None)
    return findings


def _read_key(query: QueryEvent) -> tuple[str, str, str]:
    relation = query.relation
    if relation is None:
        return (query.fingerprint, "", "")
    return (query.fingerprint, relation.model, relation.field)


def _lazy_read(query: QueryEvent) -> bool:
    relation = query.relation
    return (
        relation is not None
        and not query.many
        and not query.prefetch
        and not relation.prefetched
        and not relation.constant
        and relation.kind not in ("generic", "generic_many")
        and statement_kind(query.sql) == "SELECT"
    )


def _loader(queries: tuple[QueryEvent, ...], before: int, model: str) -> int | None:
    """The last query before `before` that loaded rows of `model`: whose row the relation is of."""
    for index in range(before - 1, -1, -1):
        query = queries[index]
        if query.model == model and statement_kind(query.sql) == "SELECT":
            return index
    return None


def _finding(profile: RequestProfile, root: int, read: _Read) -> Finding | None:
    queries = profile.queries
    events = [queries[i] for i in read.path]
    relations = [e.relation for e in events if e.relation is not None]
    head, last = events[0], events[-1]
    root_event = queries[root]
    root_model = relations[0].model
    if relations[-1].via != "get" and not quotes(last.source, relations[-1].field):
        return None  # a count or filter whose own filters the record does not show
    chain = Chain(
        root=root_model,
        steps=tuple(
            Step(r.model, r.field, r.many, r.kind == "generic", r.query_name) for r in relations
        ),
        last=relations[-1],
        source=last.source,
        function=last.callsite.function if last.callsite else "",
        local_names=last.local_names,
    )
    fix = fix_for(chain)
    if fix is None or fix.action not in _SAVING:
        return None  # a prefetch of one row's set is a query too
    if root_event.default_ordering:
        fix = keep_ordering(fix, root_event.default_ordering)
    origin = rows_origin(root_event, profile, head, root_model)
    if origin is None:
        return None  # nowhere in the project to write it (a user authentication loaded)
    arrows = " → ".join(f"{short(s.model)}.{s.field}" for s in chain.steps)
    count = len(events)
    where = f" at {head.callsite}" if head.callsite else ""
    return Finding(
        kind="lazy_relation",
        method=profile.method,
        route=profile.route,
        model=root_model,
        field=chain.steps[0].field,
        path=chain.path,
        repeats=count,
        fingerprint=head.fingerprint,
        sql_example=normalize(head.sql),
        callsite=head.callsite,
        origin=origin,
        fix=fix,
        severity="info",
        message=(
            f"Lazy read: {arrows} on one {short(root_model)} row runs "
            f"{count} {'query' if count == 1 else 'queries'} of its own{where}; add {fix.code} "
            f"where the {short(root_model)} row is queried ({origin})."
        ),
    )
