"""Findings: what a detector concluded about a request, with the fix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from perftoolkit.core.events import CallSite

# What a finding is about. A detector of the project's own (PERFTOOLKIT["DETECTORS"]) may add
# kinds of its own; these are the ones perftoolkit writes.
FindingKind = Literal[
    "n_plus_one",
    "duplicate_query",
    "write_on_read",
    "unused_eager_load",
    "lazy_relation",
    "missing_index",
    "budget_exceeded",
]
Severity = Literal["info", "warning", "error"]
IndexStatus = Literal[
    "proposed", "verified", "rejected", "exists", "redundant", "duplicate", "unused"
]


@dataclass(frozen=True, slots=True)
class DetectionOptions:
    """The knobs detectors read (from the PERFTOOLKIT setting)."""

    nplusone_threshold: int = 3
    duplicate_threshold: int = 2


@dataclass(frozen=True, slots=True)
class Fix:
    """What to change: `action` is machine-readable, `code` is the exact text to write."""

    action: (
        str  # select_related | prefetch_related | annotate | remove_eager_load | cache | bulk | …
    )
    code: str
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        data = {"action": self.action, "code": self.code}
        if self.note:
            data["note"] = self.note
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Fix | None:
        if not data:
            return None
        return cls(
            action=str(data["action"]), code=str(data["code"]), note=str(data.get("note", ""))
        )


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    method: str
    route: str
    message: str
    severity: Severity = "warning"
    model: str | None = None
    field: str | None = None
    path: str | None = None
    repeats: int = 1  # queries of this shape per request (the worst request)
    requests: int = 1  # how many requests showed it (filled when findings are merged)
    fingerprint: str | None = None
    sql_example: str | None = None
    callsite: CallSite | None = None
    origin: CallSite | None = None
    fix: Fix | None = None

    @property
    def id(self) -> str:
        """Stable across runs: kind, endpoint, model, path and the callsite's file and function,
        nothing that varies. Not the line: an edit above it must not turn one finding into a
        "fixed" and a "new" one in a comparison. Findings without a relation path (duplicates,
        writes) are told apart by their statement."""
        where = f"{self.callsite.file}:{self.callsite.function}" if self.callsite else ""
        what = self.path or self.field or ""
        key = "|".join(
            [
                self.kind,
                self.method,
                self.route,
                self.model or "",
                what,
                where,
                "" if what and where else self.fingerprint or "",
            ]
        )
        # surrogatepass: a report read from JSON may hold a lone surrogate (`"\\ud800"`).
        data = key.encode("utf-8", "surrogatepass")
        return hashlib.sha1(data, usedforsecurity=False).hexdigest()[:12]

    def merged(self, other: Finding) -> Finding:
        """The same finding seen in another request: keep the worst repeats, count the requests."""
        worst = self if self.repeats >= other.repeats else other
        return replace(
            worst,
            requests=self.requests + other.requests,
            origin=worst.origin or self.origin or other.origin,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "route": self.route,
            "model": self.model,
            "field": self.field,
            "path": self.path,
            "repeats": self.repeats,
            "requests": self.requests,
            "fingerprint": self.fingerprint,
            "sql_example": self.sql_example,
            "callsite": self.callsite.to_dict() if self.callsite else None,
            "origin": self.origin.to_dict() if self.origin else None,
            "fix": self.fix.to_dict() if self.fix else None,
            "severity": self.severity,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            kind=cast(FindingKind, str(data["kind"])),
            method=str(data.get("method", "")),
            route=str(data.get("route", "")),
            message=str(data.get("message", "")),
            severity=cast(Severity, str(data.get("severity", "warning"))),
            model=data.get("model"),
            field=data.get("field"),
            path=data.get("path"),
            repeats=int(data.get("repeats", 1)),
            requests=int(data.get("requests", 1)),
            fingerprint=data.get("fingerprint"),
            sql_example=data.get("sql_example"),
            callsite=CallSite.from_dict(data.get("callsite")),
            origin=CallSite.from_dict(data.get("origin")),
            fix=Fix.from_dict(data.get("fix")),
        )


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per id, across requests, in a stable order."""
    by_id: dict[str, Finding] = {}
    for finding in findings:
        fid = finding.id
        by_id[fid] = by_id[fid].merged(finding) if fid in by_id else finding
    return sorted(by_id.values(), key=_order)


def _order(finding: Finding) -> tuple[int, str, str, int, str]:
    rank = {"error": 0, "warning": 1, "info": 2}.get(finding.severity, 3)
    return (rank, finding.route, finding.kind, -finding.repeats, finding.id)


@dataclass(frozen=True, slots=True)
class IgnoredFinding:
    """A finding an ignore rule silenced: left out of the findings, but counted and listed in
    report.json's `ignored`, never dropped without a trace. `rule` says which rule matched
    (`PERFTOOLKIT['IGNORE'][0]`, `NPLUSONE_WHITELIST[1]`, `inline comment`)."""

    finding: Finding
    rule: str

    def merged(self, other: IgnoredFinding) -> IgnoredFinding:
        return IgnoredFinding(self.finding.merged(other.finding), self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {**self.finding.to_dict(), "rule": self.rule}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IgnoredFinding:
        return cls(Finding.from_dict(data), str(data.get("rule", "")))


def merge_ignored(items: list[IgnoredFinding]) -> list[IgnoredFinding]:
    """One entry per finding id across requests (the first rule that matched it), stable order."""
    by_id: dict[str, IgnoredFinding] = {}
    for item in items:
        fid = item.finding.id
        by_id[fid] = by_id[fid].merged(item) if fid in by_id else item
    return sorted(by_id.values(), key=lambda i: _order(i.finding))


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    table: str
    columns: tuple[str, ...]  # index order; a descending column is written "-last_login"
    status: IndexStatus
    model: str | None = None
    reason: str = ""
    plan_before: str = ""
    plan_after: str = ""
    est_cost_before: float | None = None
    est_cost_after: float | None = None
    migration: str = ""
    queries: tuple[str, ...] = ()  # fingerprints helped
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "columns": list(self.columns),
            "model": self.model,
            "status": self.status,
            "reason": self.reason,
            "plan_before": self.plan_before,
            "plan_after": self.plan_after,
            "est_cost_before": self.est_cost_before,
            "est_cost_after": self.est_cost_after,
            "migration": self.migration,
            "queries": list(self.queries),
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexAdvice:
        return cls(
            table=str(data["table"]),
            columns=tuple(str(c) for c in data.get("columns", [])),
            status=cast(IndexStatus, str(data["status"])),
            model=data.get("model"),
            reason=str(data.get("reason", "")),
            plan_before=str(data.get("plan_before", "")),
            plan_after=str(data.get("plan_after", "")),
            est_cost_before=data.get("est_cost_before"),
            est_cost_after=data.get("est_cost_after"),
            migration=str(data.get("migration", "")),
            queries=tuple(str(q) for q in data.get("queries", [])),
            name=str(data.get("name", "")),
        )
