"""The index adviser: a run's queries → candidate indexes → each verified by the planner.

`advise(run, record_dir=…, database=…)` is the one implementation behind `manage.py
perf_indexes`, `perftoolkit indexes` and the audit. It parses each SELECT/UPDATE/DELETE of the
run, reads the schema of the tables they touch, proposes indexes by the rules of
`core.indexes`, EXPLAINs the statements (with the sample parameters the recording kept in
`<record_dir>/samples/`) before and with each candidate, and reviews the existing indexes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.db import DatabaseError

from perftoolkit.core.findings import IndexAdvice
from perftoolkit.core.indexes.advice import (
    ExistingIndex,
    TableSchema,
    add_index_operation,
    describe,
    index_name,
    sort_advice,
)
from perftoolkit.core.indexes.candidates import Candidate, propose
from perftoolkit.core.indexes.mysql_plans import MysqlPlan
from perftoolkit.core.indexes.plans import PostgresPlan
from perftoolkit.core.indexes.review import review_indexes
from perftoolkit.core.indexes.samples import decode_params
from perftoolkit.core.indexes.sqlshape import StatementShape, parse_statement
from perftoolkit.core.runs.run import AuditRun, QueryStats
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.indexes.explain import (
    Explainer,
    ExplainQuery,
    IndexSpec,
    Plan,
    Unverifiable,
    explainer_for,
)
from perftoolkit.indexes.introspection import table_schemas
from perftoolkit.indexes.options import DEFAULT_MIN_COST_FACTOR, DEFAULT_MIN_ROWS
from perftoolkit.reporting.html import HTML_FILE, write_run_html
from perftoolkit.reporting.outputs import check_output_file
from perftoolkit.reporting.schema import read_run, write_run

_KINDS = ("SELECT", "UPDATE", "DELETE")


@dataclass(frozen=True, slots=True)
class Workload:
    """One statement shape of the run, ready to EXPLAIN."""

    stats: QueryStats
    query: ExplainQuery
    shape: StatementShape


@dataclass
class Adviser:
    """One advice run; `notes` collects what was skipped and why (for the terminal view)."""

    run: AuditRun
    record_dir: str | os.PathLike[str] | None = None
    database: str = "default"
    verify_with: str | None = None
    min_cost_factor: float = DEFAULT_MIN_COST_FACTOR
    min_rows: int = DEFAULT_MIN_ROWS
    include_params: bool = False
    notes: list[str] = field(default_factory=list)
    method: str = ""

    def advise(self) -> list[IndexAdvice]:
        if self.min_cost_factor < 1:
            raise ConfigurationError(
                f"--min-cost-factor {self.min_cost_factor:g} would accept an index that makes "
                "a plan dearer; give 1 or more (the default is 1.5)."
            )
        explainer = explainer_for(
            self.database,
            verify_with=self.verify_with,
            min_cost_factor=self.min_cost_factor,
            literals=self.include_params,
        )
        self.method = explainer.method
        workload = self._workload(explainer.vendor)
        tables = sorted({t for w in workload.values() for t in w.shape.tables})
        schema = table_schemas(tables, using=self.database)
        explainer.analyze(sorted(schema))
        schema = {t: replace(s, rows=explainer.rows(t, self.min_rows)) for t, s in schema.items()}
        proposal = propose(
            ((fp, w.shape) for fp, w in workload.items()), schema, min_rows=self.min_rows
        )
        if proposal.small:
            self.notes.append(
                f"not indexed, fewer than {self.min_rows} rows: {', '.join(proposal.small)} "
                "(--min-rows changes this)"
            )
        advice: list[IndexAdvice] = []
        with explainer.session():
            self.method = explainer.method
            before: dict[str, Plan | None] = {}
            for candidate in proposal.candidates:
                advice.append(self._verify(explainer, candidate, schema, workload, before))
            for candidate, index in proposal.served:
                advice.append(self._exists(explainer, candidate, index, schema, workload, before))
            usage = explainer.usage(sorted(schema))
        advice += review_indexes(schema, sorted(schema), usage, self.min_rows)
        return sort_advice(advice)

    # The workload -------------------------------------------------------------------------

    def _samples_dir(self) -> Path | None:
        if self.record_dir is not None:
            path = Path(self.record_dir)
            if not path.is_dir():
                raise ConfigurationError(
                    f"--record-dir {path} is not a directory. Give the directory "
                    "PERFTOOLKIT_RECORD_DIR pointed at while the requests ran."
                )
            return path / "samples"
        if self.run.record_dir and Path(self.run.record_dir).is_dir():
            return Path(self.run.record_dir) / "samples"
        self.notes.append(
            "no record directory (the report names none, or it is gone): statements are "
            "explained without their sample parameters; pass --record-dir for real ones"
        )
        return None

    def _workload(self, vendor: str) -> dict[str, Workload]:
        samples = self._samples_dir()
        workload: dict[str, Workload] = {}
        unread, other_vendor, missing, redacted = [], [], 0, 0
        for stats in self.run.queries:
            if stats.kind not in _KINDS:
                continue
            sample = _sample(samples, stats.fingerprint) if samples else None
            if sample is not None and sample.get("vendor") not in (None, "", vendor):
                other_vendor.append(stats.fingerprint)
                continue
            sql = str(sample["sql"]) if sample else stats.sql
            params = decode_params(sample.get("params")) if sample else None
            missing += sample is None and samples is not None
            redacted += bool(sample and sample.get("redacted"))
            shape = parse_statement(sql, vendor)
            if shape is None:
                unread.append(stats.fingerprint)
                continue
            workload[stats.fingerprint] = Workload(
                stats, ExplainQuery(stats.fingerprint, sql, params), shape
            )
        if unread:
            self.notes.append(f"{len(unread)} statements could not be parsed: {', '.join(unread)}")
        if other_vendor:
            self.notes.append(
                f"{len(other_vendor)} statements were recorded on another database vendor "
                f"than {self.database!r} ({vendor}) and are left out"
            )
        if missing:
            self.notes.append(f"{missing} statements have no sample parameters: generic plans")
        if redacted:
            self.notes.append(
                f"{redacted} statements had their sample parameters redacted (SAMPLES "
                '"redacted": a value may be a secret): generic plans'
            )
        return workload

    # Verification ---------------------------------------------------------------------------

    def _before(
        self,
        explainer: Explainer,
        fingerprint: str,
        workload: dict[str, Workload],
        before: dict[str, Plan | None],
    ) -> Plan | None:
        if fingerprint not in before:
            before[fingerprint] = explainer.explain(workload[fingerprint].query)
        return before[fingerprint]

    def _verify(
        self,
        explainer: Explainer,
        candidate: Candidate,
        schema: dict[str, TableSchema],
        workload: dict[str, Workload],
        before: dict[str, Plan | None],
    ) -> IndexAdvice:
        info = schema[candidate.table]
        name = index_name(candidate.table, candidate.columns)
        base = IndexAdvice(
            table=candidate.table,
            columns=candidate.columns,
            status="proposed",
            model=info.model,
            migration=add_index_operation(info, candidate.columns, name),
            queries=candidate.queries,
            name=name,
        )
        plans = {fp: self._before(explainer, fp, workload, before) for fp in candidate.queries}
        tried = [fp for fp, plan in plans.items() if plan is not None]
        if not tried:
            return replace(
                base, reason="none of its statements could be explained with this database"
            )
        spec = IndexSpec(candidate.table, candidate.columns, name)
        try:
            planner_name, after = explainer.explain_with(spec, [workload[fp].query for fp in tried])
        except Unverifiable as exc:
            return replace(base, reason=f"unverified: {exc}")
        except DatabaseError as exc:
            return replace(base, status="rejected", reason=f"the index could not be tried: {exc}")
        results = []
        for fp, plan_after in zip(tried, after, strict=True):
            plan_before = plans[fp]
            if plan_before is not None and plan_after is not None:
                results.append(
                    (
                        fp,
                        plan_before,
                        plan_after,
                        explainer.judge(plan_before, plan_after, planner_name),
                    )
                )
        if not results:
            return replace(base, reason="its statements could not be explained with the index")
        helped = [r for r in results if r[3].verified]
        chosen = helped or results
        fp, plan_before, plan_after, judgement = max(
            chosen, key=lambda r: (r[3].ratio or 0.0, workload[r[0]].stats.total_ms)
        )
        routes = sorted({route for r in chosen for route in workload[r[0]].stats.routes})
        reason = judgement.reason
        if len(results) > 1:
            reason += f" ({len(helped)} of {len(results)} statements improved)"
        if routes:
            reason += f"; for {', '.join(routes)}"
        return replace(
            base,
            status="verified" if helped else "rejected",
            reason=reason,
            plan_before=plan_before.text,
            plan_after=plan_after.text,
            est_cost_before=_cost(plan_before),
            est_cost_after=_cost(plan_after),
            queries=tuple(r[0] for r in chosen),
        )

    def _exists(
        self,
        explainer: Explainer,
        candidate: Candidate,
        index: ExistingIndex,
        schema: dict[str, TableSchema],
        workload: dict[str, Workload],
        before: dict[str, Plan | None],
    ) -> IndexAdvice:
        plan = self._before(explainer, candidate.queries[0], workload, before)
        return IndexAdvice(
            table=candidate.table,
            columns=candidate.columns,
            status="exists",
            model=schema[candidate.table].model,
            reason=(
                f"{index.name} ({describe(index.columns)}; {index.origin}) already serves "
                f"lookups on {describe(candidate.columns)}"
            ),
            plan_before=plan.text if plan is not None else "",
            est_cost_before=_cost(plan),
            queries=candidate.queries,
            name=index.name,
        )


def _cost(plan: Plan | None) -> float | None:
    """The planner's estimated total cost (PostgreSQL, MySQL); SQLite's and MariaDB 10's plans
    have none."""
    if isinstance(plan, PostgresPlan):
        return round(plan.total_cost, 2)
    if isinstance(plan, MysqlPlan) and plan.cost is not None:
        return round(plan.cost, 2)
    return None


def _sample(samples: Path, fingerprint: str) -> dict[str, Any] | None:
    try:
        data = json.loads((samples / f"{fingerprint}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("sql"), str) else None


def advise(
    run: AuditRun,
    *,
    record_dir: str | os.PathLike[str] | None = None,
    database: str = "default",
    verify_with: str | None = None,
    min_cost_factor: float = DEFAULT_MIN_COST_FACTOR,
    min_rows: int = DEFAULT_MIN_ROWS,
    include_params: bool = False,
) -> list[IndexAdvice]:
    """Index advice for a run: verified, rejected and existing candidates, then the review of
    the existing indexes (duplicate, redundant, unused), in that order.

    `record_dir` defaults to the one the run was built from; `verify_with` (PostgreSQL) is
    `hypopg` or `rollback`, default hypopg when the server has it.
    """
    return Adviser(
        run,
        record_dir=record_dir,
        database=database,
        verify_with=verify_with,
        min_cost_factor=min_cost_factor,
        min_rows=min_rows,
        include_params=include_params,
    ).advise()


@dataclass(frozen=True, slots=True)
class AdviceResult:
    advice: list[IndexAdvice]
    notes: list[str]
    method: str  # how candidates were tried: "rollback" or "hypopg"
    written: tuple[Path, ...] = ()  # with update_report: the report and its HTML page


def advise_report(
    report: str | os.PathLike[str],
    *,
    record_dir: str | os.PathLike[str] | None = None,
    database: str = "default",
    verify_with: str | None = None,
    min_cost_factor: float = DEFAULT_MIN_COST_FACTOR,
    min_rows: int = DEFAULT_MIN_ROWS,
    include_params: bool = False,
    update_report: bool = False,
) -> AdviceResult:
    """Advice for a report.json (what `perf_indexes` and `perftoolkit indexes` run); with
    `update_report` its `indexes` list is replaced, atomically, and the HTML report beside it
    (index.html) is rendered again to show it."""
    if update_report:
        check_output_file(report, "--update-report")
    run = read_run(report)
    adviser = Adviser(
        run,
        record_dir=record_dir,
        database=database,
        verify_with=verify_with,
        min_cost_factor=min_cost_factor,
        min_rows=min_rows,
        include_params=include_params,
    )
    advice = adviser.advise()
    written: tuple[Path, ...] = ()
    if update_report:
        updated = run.with_changes(indexes=tuple(advice))
        path = write_run(updated, report)
        written = (path, write_run_html(updated, path.with_name(HTML_FILE)))
    return AdviceResult(advice=advice, notes=adviser.notes, method=adviser.method, written=written)
