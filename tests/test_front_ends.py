"""The two spellings of a command (`perftoolkit …` and `manage.py perf_…`) offer the same flags,
with the same defaults and help texts."""

from __future__ import annotations

import argparse
import re
from typing import Any

import pytest
import typer
from django.core.management import load_command_class

from perftoolkit.cli import main as cli

# Flags only one side has, on purpose: the CLI runs outside the project and must be told where it
# is; Django adds its own to every management command.
CLI_ONLY = {"--settings", "--project-dir", "--help"}
DJANGO_ONLY = {
    "--help",
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


def _typer_flags(path: list[str]) -> dict[str, tuple[Any, str]]:
    command: Any = typer.main.get_command(cli.app)
    for name in path:
        command = command.commands[name]
    flags = {}
    for param in command.params:
        long = max(param.opts, key=len)
        if long in CLI_ONLY:
            continue
        default = param.default
        flags[long] = (tuple(default) if isinstance(default, list) else default, param.help or "")
    return flags


def _argparse_flags(command: str, sub: str | None) -> dict[str, tuple[Any, str]]:
    parser = load_command_class("perftoolkit", command).create_parser("manage.py", command)
    if sub is not None:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = subparsers.choices[sub]
    flags = {}
    for action in parser._actions:
        if not action.option_strings:
            continue
        long = max(action.option_strings, key=len)
        if long in DJANGO_ONLY:
            continue
        help_text = re.sub(r" \[default: [^\]]*\]$", "", (action.help or "").replace("%%", "%"))
        default = action.default
        if isinstance(action, argparse._StoreTrueAction):
            default = False
        flags[long] = (tuple(default) if isinstance(default, list) else default, help_text)
    return flags


@pytest.mark.parametrize(
    ("cli_path", "command", "sub"),
    [(["audit"], "perf_audit", None), (["profile", "scaffold"], "perf_profile", "scaffold")],
)
def test_cli_and_management_command_offer_the_same_flags(
    cli_path: list[str], command: str, sub: str | None
) -> None:
    typer_flags = _typer_flags(cli_path)
    argparse_flags = _argparse_flags(command, sub)
    assert sorted(typer_flags) == sorted(argparse_flags)
    for flag, (default, help_text) in typer_flags.items():
        assert help_text, f"{flag} has no help text"
        assert argparse_flags[flag] == (default, help_text), flag
