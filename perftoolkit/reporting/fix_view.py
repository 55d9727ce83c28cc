"""The run report's "Fix first" section: root causes ranked by what fixing each saves
(`core.runs.priorities`), as the strings the template shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perftoolkit.core.findings import Finding
from perftoolkit.core.runs.priorities import EndpointShare, FixItem, FixPlan
from perftoolkit.reporting.formatting import count, duration, ms

SHOWN = 3  # endpoints of a cause shown unfolded: a session write can be on every page

TITLES = {
    "n_plus_one": "N+1 queries",
    "duplicate_query": "Duplicate query",
    "write_on_read": "Write during a read",
    "unused_eager_load": "Unused eager load",
    "lazy_relation": "Lazy relation reads",
    "budget_exceeded": "Budget exceeded",
}


@dataclass(frozen=True, slots=True)
class ShareView:
    endpoint: str
    anchor: str  # the finding card of this cause on that endpoint
    text: str  # "40 requests · −25 queries, −6.3 ms per request"


@dataclass(frozen=True, slots=True)
class FixView:
    rank: str
    anchor: str
    kind: str
    title: str
    subject: str  # "lms.Course → instructor__user"
    saves: str  # "≈ 1,000 queries and 250 ms over the run"
    fix_action: str
    fix_code: str
    fix_note: str
    callsite: str
    callsite_function: str
    origin: str
    origin_function: str
    endpoints: tuple[ShareView, ...]  # the first SHOWN, most saved first
    more_endpoints: tuple[ShareView, ...]  # the rest, folded
    more_count: str
    also: tuple[tuple[str, str], ...]  # (anchor, what else it explains)


def by_rank(findings: Sequence[Finding], plan: FixPlan) -> list[Finding]:
    """The findings in Fix first's order (each root cause's findings together), then the rest."""
    order = {id(f): n for n, item in enumerate(plan.items) for f in item.findings}
    return sorted(findings, key=lambda f: order.get(id(f), len(order)))


def fix_views(plan: FixPlan) -> list[FixView]:
    return [fix_view(n, item) for n, item in enumerate(plan.items, start=1)]


def fix_view(rank: int, item: FixItem) -> FixView:
    lead = item.lead
    subject = ""
    if lead.model:
        subject = lead.model + (f" → {lead.path or lead.field}" if lead.path or lead.field else "")
    anchors = {f"{f.method} {f.route}": f"finding-{f.id}" for f in item.findings}
    ranked = sorted(item.endpoints, key=lambda s: -(s.queries * max(s.requests, 1)))
    shares = tuple(ShareView(s.key, anchors.get(s.key, ""), _share(s)) for s in ranked)
    return FixView(
        rank=str(rank),
        anchor=f"fix-{rank}",
        kind=lead.kind,
        title=TITLES.get(lead.kind, lead.kind.replace("_", " ")),
        subject=subject,
        saves=_saves(item),
        fix_action=lead.fix.action.replace("_", " ") if lead.fix else "",
        fix_code=lead.fix.code if lead.fix else "",
        fix_note=lead.fix.note if lead.fix else "",
        callsite=str(lead.callsite) if lead.callsite else "",
        callsite_function=lead.callsite.function if lead.callsite else "",
        origin=str(lead.origin) if lead.origin else "",
        origin_function=lead.origin.function if lead.origin else "",
        endpoints=shares[:SHOWN],
        more_endpoints=shares[SHOWN:],
        more_count=count(len(shares[SHOWN:])),
        also=tuple((f"finding-{f.id}", _consequence(f)) for f in item.consequences),
    )


def _saves(item: FixItem) -> str:
    queries = f"≈ {count(round(item.queries_saved))} fewer queries"
    if item.ms_saved is None:
        return f"{queries} over the run"
    return f"{queries} and {duration(item.ms_saved)} less database time over the run"


def _share(share: EndpointShare) -> str:
    per = f"−{count(round(share.queries, 1))} queries"
    if share.ms is not None:
        per += f", −{ms(share.ms)} ms"
    requests = "request" if share.requests == 1 else "requests"
    return f"{count(share.requests)} {requests} · {per} per request"


def _consequence(finding: Finding) -> str:
    if finding.kind == "budget_exceeded":  # "GET x/ is over budget: …": the endpoint is listed
        return finding.message.removeprefix(f"{finding.method} {finding.route} is ")
    where = f" on {finding.method} {finding.route}"
    return f"{TITLES.get(finding.kind, finding.kind)}{where} ({count(finding.repeats)} runs)"
