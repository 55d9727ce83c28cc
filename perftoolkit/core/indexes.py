"""Index advice over plain data: the value type the report carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INDEX_STATUSES = ("proposed", "verified", "rejected", "exists", "redundant", "duplicate", "unused")


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    table: str
    columns: tuple[str, ...]  # index order; a descending column is written "-last_login"
    status: str
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
            status=str(data["status"]),
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
