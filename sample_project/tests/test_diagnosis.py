"""perftoolkit's diagnosis on the sample project: every seeded problem named in `before`, with the
fix the `after` variant applies at that very place; nothing per row left in `after`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from perftoolkit.conf import override_mode
from perftoolkit.core.findings import Finding

from test_endpoints import ENDPOINTS, ids  # noqa: F401  (ids is a fixture)
from tests.support.corpus import collected_findings

HERE = Path(__file__).resolve().parent.parent
BEFORE = settings.SAMPLE_VARIANT == "before"


@pytest.fixture
def findings(client_for: Callable[[str | None], Client], ids: dict[str, int]) -> list[Finding]:  # noqa: F811
    """Every finding of every documented GET endpoint, each requested after one warm-up."""
    out: list[Finding] = []
    for user, template in ENDPOINTS.values():
        client = client_for(user)
        client.get(template.format(**ids))
        with collected_findings() as found, override_mode("log"):
            client.get(template.format(**ids))
        out.extend(found)
    return out


def key(finding: Finding) -> tuple[str, str, str]:
    return (finding.route, finding.kind, finding.path or finding.model or "")


# What `before` shows: (route, kind, relation path or model). Each is a problem the seeds document.
EXPECTED_BEFORE = {
    ("api/auth/profile/", "duplicate_query", "auth.Group"),  # roles asked twice per request
    ("api/auth/profile/", "duplicate_query", "auth.Permission"),
    ("api/auth/profile/", "duplicate_query", "auth.User"),
    ("api/auth/profile/", "write_on_read", "lms.Subscription"),  # ai_usage_today saves on read
    ("api/auth/profile/", "lazy_relation", "subscription__plan"),  # a property of the profile
    ("api/campaigns/", "n_plus_one", "account__owner"),  # StringRelatedField + Account.__str__
    ("api/campaigns/", "n_plus_one", "payouts"),  # .count() and .all() per campaign
    ("api/campaigns/<int:pk>/payouts/", "n_plus_one", "approved_by"),
    ("api/campaigns/<int:pk>/payouts/", "n_plus_one", "campaign"),
    ("api/categories/", "n_plus_one", "children"),
    ("api/categories/", "n_plus_one", "courses"),
    ("api/categories/", "n_plus_one", "parent"),
    ("api/courses/", "n_plus_one", "category"),
    ("api/courses/", "n_plus_one", "enrollments"),  # student_count, and is_enrolled when logged in
    ("api/courses/", "n_plus_one", "instructor__profile"),  # dotted source through a reverse O2O
    ("api/courses/", "n_plus_one", "tags"),
    ("api/courses/<int:pk>/", "n_plus_one", "lessons"),  # per-section count and Sum
    # the course's own relations, a query each (seed 004: 15 queries on the detail, 3 once fixed)
    ("api/courses/<int:pk>/", "lazy_relation", "category"),
    ("api/courses/<int:pk>/", "lazy_relation", "enrollments"),
    ("api/courses/<int:pk>/", "lazy_relation", "instructor__profile"),
    ("api/instructor/courses/", "duplicate_query", "auth.Group"),
    ("api/instructor/courses/", "duplicate_query", "auth.Permission"),
    ("api/instructor/courses/", "n_plus_one", "category"),
    ("api/instructor/courses/", "n_plus_one", "enrollments"),  # count and Sum per course
    ("api/instructor/courses/", "n_plus_one", "enrollments__review"),  # Avg through a join
    ("api/projects/", "n_plus_one", "feedback"),
    ("api/projects/", "n_plus_one", "files"),
    ("api/projects/", "n_plus_one", "manager"),
    ("api/projects/", "n_plus_one", "members"),
    ("catalog/", "n_plus_one", "category"),  # a template loop
    ("catalog/", "n_plus_one", "instructor"),
}


@pytest.mark.skipif(not BEFORE, reason="the problems exist in the before variant")
def test_diagnosis_names_every_seeded_problem(findings: list[Finding]) -> None:
    assert {key(f) for f in findings} == EXPECTED_BEFORE


@pytest.mark.skipif(not BEFORE, reason="the problems exist in the before variant")
def test_diagnosis_fixes_are_what_after_applies_where_it_applies_them(
    findings: list[Finding],
) -> None:
    """Each N+1's fix, applied at its origin, is the `after` variant's change: the origin line is
    in a function that branches on optimized(), and the fix's relation paths and expressions are
    in that file's code."""
    checked = 0
    for finding in findings:
        if finding.kind not in ("n_plus_one", "lazy_relation"):
            continue
        assert finding.fix is not None, finding
        assert finding.origin is not None, finding
        origin = HERE / finding.origin.file
        source = origin.read_text()
        assert "optimized()" in _function_at(source, finding.origin.line), finding.origin
        for fragment in _fragments(finding.fix.code):
            assert fragment in source, (fragment, finding.fix.code, finding.origin)
        checked += 1
    assert checked == 34


@pytest.mark.skipif(BEFORE, reason="the after variant must show no per-row problem")
def test_diagnosis_after_has_no_per_row_queries_nor_writes(findings: list[Finding]) -> None:
    per_row = ("n_plus_one", "write_on_read", "lazy_relation")
    assert [key(f) for f in findings if f.kind in per_row] == []


def _fragments(code: str) -> list[str]:
    """The parts of a fix the code must contain: quoted paths and the aggregate functions used."""
    strings = re.findall(r'"([^"]+)"', code)
    functions = re.findall(r"\b(Count|Sum|Avg|Exists|Prefetch)\(", code)
    return [f'"{s}"' for s in strings if s != "pk"] + [f"{f}(" for f in functions]


def _function_at(source: str, line: int) -> str:
    lines = source.splitlines()
    start = line - 1
    while start > 0 and not lines[start].lstrip().startswith("def "):
        start -= 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    return "\n".join(lines[start:end])
