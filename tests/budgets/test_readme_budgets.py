"""README's "Budgets in CI" tables stay true to the CLI, the management command and the plugin."""

from __future__ import annotations

import re
from pathlib import Path

import typer

import perftoolkit.pytest_plugin
from perftoolkit.budgets.gate import BudgetOptions
from perftoolkit.cli import budget
from perftoolkit.core.budgets.rules import LIMITS
from perftoolkit.core.options import command_options

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## Budgets in CI\n", 1)[1].split("\n## ", 1)[0]


def _tables(text: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip("|").split("|")])
        elif current:
            tables.append(current[2:])
            current = []
    return tables


def _flags(cell: str) -> set[str]:
    return set(re.findall(r"(--?[a-z][a-z-]*)", cell))


def test_readme_limit_table_lists_every_limit() -> None:
    keys = {row[0].strip("`") for row in _tables(SECTION)[0]}
    assert keys == {*LIMITS, "unlisted"}


def test_readme_option_table_matches_the_cli_and_the_command() -> None:
    documented: set[str] = set()
    for row in _tables(SECTION.split("### Commands", 1)[1])[1]:
        documented |= _flags(row[0])
    cli: set[str] = set()
    group = typer.main.get_command(budget.app)
    for command in group.commands.values():  # type: ignore[attr-defined]
        for param in command.params:
            cli |= {o for o in [*param.opts, *param.secondary_opts] if o.startswith("-")}
    assert documented == cli - {"--help"}
    declared = {f for spec in command_options(BudgetOptions) for f in spec.flags}
    assert declared | {"--no-github-annotations"} == documented - {"--settings"}


def test_readme_plugin_table_matches_the_plugin_options() -> None:
    source = Path(perftoolkit.pytest_plugin.__file__).read_text()
    options = set(re.findall(r'"(--perf-[a-z-]+)"', source))
    documented: set[str] = set()
    for row in _tables(SECTION.split("### pytest plugin", 1)[1])[0]:
        documented |= _flags(row[0])
    assert documented == options
