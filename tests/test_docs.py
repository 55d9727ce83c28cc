"""The README's tables stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from perftoolkit.conf import KNOWN_KEYS, PerfToolkitSettings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def table_after(heading: str) -> list[list[str]]:
    section = README.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def test_readme_settings_table_lists_every_key() -> None:
    keys = {row[0].strip("`") for row in table_after("## Settings")}
    assert keys == set(KNOWN_KEYS)


def test_readme_settings_defaults_match() -> None:
    defaults = {
        f.upper(): getattr(PerfToolkitSettings(), f)
        for f in ("mode", "nplusone_threshold", "duplicate_threshold", "cache")
    }
    rows = {row[0].strip("`"): row[1].strip("`") for row in table_after("## Settings")}
    assert rows["MODE"] == f'"{defaults["MODE"]}"'
    assert rows["NPLUSONE_THRESHOLD"] == str(defaults["NPLUSONE_THRESHOLD"])
    assert rows["DUPLICATE_THRESHOLD"] == str(defaults["DUPLICATE_THRESHOLD"])
    assert rows["CACHE"] == str(defaults["CACHE"])


def test_readme_check_ids_match_checks_module() -> None:
    documented = {row[0].strip("`") for row in table_after("## System checks")}
    # checks.py, the settings rules it reports (conf.py), and checks that live with their
    # concept (budgets/querycount.py).
    source = "".join(p.read_text() for p in (ROOT / "perftoolkit").rglob("*.py"))
    assert documented == set(re.findall(r'"(perftoolkit\.[EW]\d{3})"', source))
