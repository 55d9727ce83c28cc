"""What to fix first: a run's findings grouped by root cause and ranked by what fixing each saves.

A root cause is one change at one place: the same fix at the same callsite and origin, on every
endpoint it shows on. It takes along what it causes there: a duplicate of its statement (or with
its fix) on the same endpoint, and the endpoint's budget excess (given to the cause that saves the
most queries there). Each cause is ranked by the milliseconds and queries it saves per request,
times each endpoint's traffic (requests in the run): queries first, time breaking ties; a budget
excess nothing explains stays outside, with the findings no root cause claims.

>>> from perftoolkit.core.findings import Finding, Fix
>>> n1 = Finding("n_plus_one", "GET", "x/", "m", repeats=10, fix=Fix("select_related", '.s("a")'))
>>> over = Finding("budget_exceeded", "GET", "x/", "over budget")
>>> plan = fix_first([n1, over], {"GET x/": 4}, {}, mean_ms=0.5)
>>> [(i.lead.kind, i.queries_saved, i.ms_saved, len(i.findings)) for i in plan.items]
[('n_plus_one', 40.0, 20.0, 2)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from perftoolkit.core.findings import Finding
from perftoolkit.core.runs.run import AuditRun

# Kinds that are a change to make; the rest (budget excess, index advice shown elsewhere) are
# consequences or have their own section.
CAUSES = (
    "n_plus_one",
    "duplicate_query",
    "write_on_read",
    "lazy_relation",
    "unused_eager_load",
)
_KIND_ORDER = {kind: n for n, kind in enumerate(CAUSES)}


@dataclass(frozen=True, slots=True)
class EndpointShare:
    """One endpoint a root cause shows on, and what fixing it there saves per request."""

    key: str  # "GET api/courses/"
    requests: int  # the endpoint's traffic in the run
    queries: float  # saved per request
    ms: float | None  # saved per request (None: no statement timings in the run)


@dataclass(frozen=True, slots=True)
class FixItem:
    """One root cause: the change to make, where, and everything it explains."""

    lead: Finding  # the finding whose fix, callsite and origin this is (first endpoint's)
    findings: tuple[Finding, ...]  # the lead on each endpoint, then what it causes
    endpoints: tuple[EndpointShare, ...]
    queries_saved: float  # over the run: per request × requests, summed over endpoints
    ms_saved: float | None

    @property
    def id(self) -> str:
        return self.lead.id

    @property
    def consequences(self) -> tuple[Finding, ...]:
        """The duplicates and budget excesses it causes (not itself on each endpoint)."""
        return tuple(f for f in self.findings if f.kind != self.lead.kind)


@dataclass(frozen=True, slots=True)
class FixPlan:
    items: tuple[FixItem, ...]  # most saved first
    unexplained: tuple[Finding, ...]  # findings no root cause claims (budget excess among them)


def run_fix_first(run: AuditRun) -> FixPlan:
    """`fix_first` with the run's endpoint traffic and statement timings."""
    traffic = {e.key: e.requests for e in run.endpoints}
    timings = {q.fingerprint: q.total_ms / q.calls for q in run.queries if q.calls}
    calls = sum(q.calls for q in run.queries)
    mean = sum(q.total_ms for q in run.queries) / calls if calls else None
    return fix_first(run.findings, traffic, timings, mean_ms=mean)


def fix_first(
    findings: Sequence[Finding],
    traffic: Mapping[str, int],
    timings: Mapping[str, float],
    *,
    mean_ms: float | None,
) -> FixPlan:
    """Group `findings` by root cause and rank them. `traffic`: requests per endpoint key;
    `timings`: mean ms of one run of each statement fingerprint (`mean_ms` for the others)."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for finding in findings:
        if finding.kind in CAUSES:
            groups.setdefault(_cause_key(finding), []).append(finding)
    claimed: set[int] = set()
    items: list[FixItem] = []
    for members in groups.values():
        if not _is_consequence(members, groups):
            found = _item(members, findings, traffic, timings, mean_ms)
            items.append(found)
            claimed.update(id(f) for f in found.findings)
    for members in groups.values():
        for finding in members:
            if id(finding) not in claimed:  # a duplicate another cause did not take after all
                found = _item([finding], findings, traffic, timings, mean_ms)
                items.append(found)
                claimed.update(id(f) for f in found.findings)
    items.sort(key=_rank)
    items = _attach_budget_excess(items, findings, claimed)
    unexplained = tuple(f for f in findings if id(f) not in claimed)
    return FixPlan(tuple(items), unexplained)


def _cause_key(finding: Finding) -> tuple[object, ...]:
    fix = finding.fix.code if finding.fix else finding.fingerprint
    return (finding.kind, finding.callsite, finding.origin, fix, finding.model, finding.path)


def _is_consequence(
    members: list[Finding], groups: Mapping[tuple[object, ...], list[Finding]]
) -> bool:
    """Duplicates that an N+1 on their endpoint causes join that N+1's item instead."""
    nplusones = [f for g in groups.values() for f in g if f.kind == "n_plus_one"]
    return all(
        f.kind == "duplicate_query" and any(_explains(n, f) for n in nplusones) for f in members
    )


def _item(
    members: list[Finding],
    findings: Sequence[Finding],
    traffic: Mapping[str, int],
    timings: Mapping[str, float],
    mean_ms: float | None,
) -> FixItem:
    members = sorted(members, key=lambda f: -traffic.get(_key(f), 0))
    caused: list[Finding] = []
    if members[0].kind == "n_plus_one":
        routes = {(f.method, f.route) for f in members}
        for other in findings:
            if other.kind != "duplicate_query" or (other.method, other.route) not in routes:
                continue
            if any(_explains(m, other) for m in members):
                caused.append(other)
    shares = []
    for f in members:
        queries, ms = _saved(f, timings, mean_ms)
        extra = [c for c in caused if (c.method, c.route) == (f.method, f.route)]
        for c in extra:
            q, m = _saved(c, timings, mean_ms)
            queries += q
            ms = None if ms is None or m is None else ms + m
        shares.append(EndpointShare(_key(f), traffic.get(_key(f), 0), queries, ms))
    total_q = sum(s.queries * max(s.requests, 1) for s in shares)
    known = [s.ms for s in shares]
    total_ms = (
        None
        if any(m is None for m in known)
        else sum((s.ms or 0.0) * max(s.requests, 1) for s in shares)
    )
    return FixItem(members[0], (*members, *caused), tuple(shares), total_q, total_ms)


def _explains(nplusone: Finding, duplicate: Finding) -> bool:
    if (nplusone.method, nplusone.route) != (duplicate.method, duplicate.route):
        return False
    if nplusone.fingerprint is not None and nplusone.fingerprint == duplicate.fingerprint:
        return True
    return (
        nplusone.fix is not None
        and duplicate.fix is not None
        and nplusone.fix.code == duplicate.fix.code
    )


def _saved(
    finding: Finding, timings: Mapping[str, float], mean_ms: float | None
) -> tuple[float, float | None]:
    """Queries (and ms) one request saves once `finding` is fixed."""
    repeats = float(finding.repeats)
    action = finding.fix.action if finding.fix else ""
    if finding.kind == "n_plus_one":
        # A prefetch (or a fix that is not known) still runs one query for all the rows.
        queries = repeats if action in ("select_related", "annotate") else max(repeats - 1, 0)
    elif finding.kind == "duplicate_query":
        queries = max(repeats - 1, 0.0)
    elif finding.kind in ("write_on_read", "lazy_relation"):
        queries = repeats  # a lazy read's fix is a join or an annotation: no query left
    elif finding.kind == "unused_eager_load":
        queries = 1.0 if finding.fix and "prefetch_related" in finding.fix.code else 0.0
    else:
        queries = 0.0
    each = timings.get(finding.fingerprint or "", mean_ms)
    return queries, None if each is None else queries * each


def _attach_budget_excess(
    items: list[FixItem], findings: Sequence[Finding], claimed: set[int]
) -> list[FixItem]:
    """Each endpoint's budget excess goes to the cause that saves the most queries there (the
    first-ranked one on a tie)."""
    out = list(items)
    for finding in findings:
        if finding.kind != "budget_exceeded":
            continue
        best: tuple[float, int] | None = None
        for n, item in enumerate(out):
            share = next((s for s in item.endpoints if s.key == _key(finding)), None)
            if share is not None and (best is None or share.queries > best[0]):
                best = (share.queries, n)
        if best is not None:
            item = out[best[1]]
            out[best[1]] = FixItem(
                item.lead,
                (*item.findings, finding),
                item.endpoints,
                item.queries_saved,
                item.ms_saved,
            )
            claimed.add(id(finding))
    return out


def _rank(item: FixItem) -> tuple[float, float, int, str]:
    # Queries first: they are exact, where a statement's milliseconds move with the machine's
    # load from one run to the next; time saved breaks ties.
    return (
        -item.queries_saved,
        -(item.ms_saved or 0.0),
        _KIND_ORDER.get(item.lead.kind, 9),
        item.id,
    )


def _key(finding: Finding) -> str:
    return f"{finding.method} {finding.route}"
