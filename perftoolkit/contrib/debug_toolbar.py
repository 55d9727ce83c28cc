"""`PerfPanel`: perftoolkit's diagnosis of the current request inside django-debug-toolbar.

```python
DEBUG_TOOLBAR_PANELS = [..., "perftoolkit.contrib.debug_toolbar.PerfPanel"]
```

The panel captures the request's queries itself (the middleware need not be installed or on),
then shows what `perf_report build` would say about it: each finding with its fix, callsite and
origin, the findings the ignore rules silenced, the endpoint's budget (perf-budgets.toml, or
django-querycount's threshold) judged on this request, and the queries grouped by statement shape.
Everything is computed by the same functions as the report (`build_run`, the project's detectors,
ignore rules and budgets) and stored as plain data, as the toolbar's stores require.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from time import perf_counter
from typing import Any

from asgiref.sync import iscoroutinefunction
from debug_toolbar.panels import Panel
from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine

from perftoolkit.budgets.gate import judge, project_budgets
from perftoolkit.core.budgets.rules import UNMATCHED_ROUTE
from perftoolkit.core.diagnosis.ignore import describe_ignored
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import Finding
from perftoolkit.core.runs.run import AuditRun, build_run
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.middleware.capture.capture import QueryCapture
from perftoolkit.middleware.capture.profile import build_profile
from perftoolkit.middleware.detectors import detection_options, detectors
from perftoolkit.middleware.ignoring import finding_filter
from perftoolkit.urlconf import keyed_route, match_key

logger = logging.getLogger("perftoolkit")
_ENGINE = Engine(dirs=[str(Path(__file__).parent / "templates")], autoescape=True)


class PerfPanel(Panel):
    """Findings with fixes, budget status and queries by shape for the request on screen."""

    title = "perftoolkit"
    template = "perftoolkit/debug_toolbar.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._capture: QueryCapture | None = None
        self._started = 0.0
        self._elapsed_ms = 0.0

    @property
    def nav_subtitle(self) -> str:
        stats = self.get_stats()
        if not stats:
            return ""
        findings = len(stats.get("findings", []))
        return f"{stats.get('count', 0)} queries · {findings} finding{'s' if findings != 1 else ''}"

    def process_request(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self.get_response):  # an ASGI toolbar: shown without data
            return super().process_request(request)
        capture = QueryCapture()
        self._started, start = time.time(), perf_counter()
        capture.activate()
        try:
            capture.install()
            response = super().process_request(request)
        finally:
            capture.deactivate()
        self._capture = capture
        self._elapsed_ms = (perf_counter() - start) * 1000.0
        return response

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        if self._capture is None:
            self.record_stats({"unavailable": "This request ran without capture (ASGI)."})
            return
        try:
            self.record_stats(self._stats(request, response, self._capture))
        except Exception as exc:  # the host's page and the other panels come first
            logger.warning("perftoolkit: the toolbar panel failed", exc_info=True)
            self.record_stats({"unavailable": f"perftoolkit could not analyse this request: {exc}"})

    @property
    def content(self) -> str:
        return _ENGINE.get_template(self.template).render(Context(self.get_stats()))

    def _stats(
        self, request: HttpRequest, response: HttpResponse, capture: QueryCapture
    ) -> dict[str, Any]:
        match = getattr(request, "resolver_match", None)
        route = (keyed_route(request, match) or match_key(match)) if match else UNMATCHED_ROUTE
        profile = build_profile(
            capture,
            method=request.method or "GET",
            route=route,
            view=str(getattr(match, "_func_path", "")),
            status=response.status_code,
            started_at=self._started,
            duration_ms=self._elapsed_ms,
        )
        # django-silk, when installed beside the toolbar, runs an EXPLAIN of each ORM query inside
        # the request: its cost, not the application's, so it is counted apart.
        explains = [q for q in profile.queries if _silk_explain(q.sql)]
        if explains:
            profile = replace(
                profile, queries=tuple(q for q in profile.queries if not _silk_explain(q.sql))
            )
        run = build_run(
            [profile],
            label="debug-toolbar",
            started_at=self._started,
            finished_at=self._started + self._elapsed_ms / 1000,
            environment={},
            detectors=detectors(),
            options=detection_options(),
            ignore=finding_filter(),
        )
        budget = _budget(run)
        return {
            "endpoint": f"{profile.method} {route}",
            "count": len(profile.queries),
            "silk_explains": len(explains),
            "db_ms": f"{profile.db_ms:.1f}",
            "findings": [_finding(f) for f in run.findings],
            "ignored": [_finding(i.finding) | {"rule": i.rule} for i in run.ignored],
            "ignored_text": describe_ignored(run.ignored),
            **budget,
            "groups": _groups(profile),
        }


def _silk_explain(sql: str) -> bool:
    return sql.lstrip()[:8].upper() == "EXPLAIN " and apps.is_installed("silk")


def _budget(run: AuditRun) -> dict[str, Any]:
    try:
        budgets = project_budgets()
    except ConfigurationError as exc:
        return {"budget_status": "error", "budget_source": str(exc), "budget_limits": []}
    if budgets is None:
        return {"budget_status": "none", "budget_source": "", "budget_limits": []}
    judged, _ = judge(run, budgets)
    status = judged.endpoints[0].budget
    endpoint = judged.endpoints[0]
    measured = {
        "queries": endpoint.queries_max,
        "duplicates": endpoint.duplicates_max,
        "db_ms_p95": endpoint.db_ms_p95,
        "latency_ms_p95": endpoint.latency_p95,
    }
    return {
        "budget_status": status.status,
        "budget_source": budgets.source,
        "budget_limits": [
            {
                "name": name,
                "limit": f"{limit:g}",
                "measured": "" if measured.get(name) is None else f"{measured[name]:g}",
                "exceeded": name in status.exceeded,
            }
            for name, limit in status.limits.items()
        ],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "message": finding.message,
        "severity": finding.severity,
        "repeats": finding.repeats,
        "callsite": str(finding.callsite) if finding.callsite else "",
        "function": finding.callsite.function if finding.callsite else "",
        "origin": str(finding.origin) if finding.origin else "",
        "fix": finding.fix.code if finding.fix else "",
        "fix_note": finding.fix.note if finding.fix else "",
        "sql": finding.sql_example or "",
    }


def _groups(profile: RequestProfile) -> list[dict[str, Any]]:
    """The request's statements by shape (fingerprint), most repeated first."""
    count: dict[str, int] = defaultdict(int)
    total: dict[str, float] = defaultdict(float)
    sql: dict[str, str] = {}
    sites: dict[str, dict[str, None]] = defaultdict(dict)
    for query in profile.queries:
        count[query.fingerprint] += 1
        total[query.fingerprint] += query.ms
        sql.setdefault(query.fingerprint, query.sql)
        if query.callsite is not None:
            sites[query.fingerprint].setdefault(str(query.callsite))
    return [
        {
            "fingerprint": fp,
            "count": count[fp],
            "ms": f"{total[fp]:.1f}",
            "sql": sql[fp],
            "callsites": list(sites[fp]),
        }
        for fp in sorted(count, key=lambda fp: (-count[fp], -total[fp], fp))
    ]
