"""sample_project/README.md stays true: its endpoints resolve, its query table is the one the
tests assert, and every file:function of its seeded-problems table exists."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import resolve

from test_endpoints import ENDPOINTS, EXPECTED_QUERIES

PROJECT_DIR = Path(__file__).resolve().parent.parent
README = (PROJECT_DIR / "README.md").read_text()


def table(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table under `## heading`."""
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_every_documented_endpoint_resolves() -> None:
    for cell, *_ in table("Endpoints"):
        method, url = cell.strip("`").split()
        assert method in ("GET", "POST")
        path = url.replace("<int:pk>", "1").split("?")[0]
        assert resolve(path).url_name, url


def test_query_table_is_the_one_the_tests_assert() -> None:
    documented = {}
    for endpoint, user, before, after, _ in table("Query counts"):
        documented[(endpoint.strip("`").split()[1], user)] = (int(before), int(after))
    asserted = {}
    for name, (user, template) in ENDPOINTS.items():
        path = re.sub(r"\{\w*course\}|\{campaign\}", "<pk>", template)
        counts = (EXPECTED_QUERIES["before"][name], EXPECTED_QUERIES["after"][name])
        asserted[(path, user or "anonymous")] = counts

    assert documented == asserted


def test_seeded_problems_name_existing_code() -> None:
    cells = " ".join(row[1] + " " + row[3] for row in table("Seeded problems"))
    references = re.findall(r"`([\w/]+\.(?:py|html))(?::([\w.]+))?`", cells)
    assert len(references) > 20
    for path, name in references:
        source = PROJECT_DIR / path
        assert source.exists(), path
        if name:
            last = name.split(".")[-1]
            assert re.search(rf"(def|class) {last}\b", source.read_text()), f"{path}:{name}"
