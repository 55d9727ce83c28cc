"""The two spellings of a command (`perftoolkit …` and `manage.py perf_…`) offer the same flags and
positional arguments, with the same defaults and help texts."""

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
# Every `perftoolkit` command that works on a project, and the management command spelling it.
PAIRS = [
    (["audit"], "perf_audit", None),
    (["profile", "scaffold"], "perf_profile", "scaffold"),
    (["budget", "check"], "perf_budget", "check"),
    (["budget", "record"], "perf_budget", "record"),
    (["budget", "update"], "perf_budget", "update"),
    (["indexes"], "perf_indexes", None),
    (["report", "build"], "perf_report", "build"),
    (["report", "show"], "perf_report", "show"),
    (["report", "compare"], "perf_report", "compare"),
    (["report", "html"], "perf_report", "html"),
    (["fix"], "perf_fix", None),
]


def _long(options: list[str]) -> str:
    """The name a flag is compared by: its longest spelling, not its `--no-` form."""
    return max([o for o in options if not o.startswith("--no-")] or options, key=len)


def _typer_params(path: list[str]) -> dict[str, tuple[Any, str]]:
    command: Any = typer.main.get_command(cli.app)
    for name in path:
        command = command.commands[name]
    params = {}
    for param in command.params:
        if param.param_type_name == "argument":
            key = f"<{param.name}>"
            default = None if param.required else param.default
        else:
            key = _long(param.opts)
            if key in CLI_ONLY:
                continue
            default = param.default
        default = tuple(default) if isinstance(default, list) else default
        # typer's help escapes `[` so its rich renderer prints it; the text is the same.
        params[key] = (default, (getattr(param, "help", None) or "").replace("\\[", "["))
    return params


def _argparse_params(command: str, sub: str | None) -> dict[str, tuple[Any, str]]:
    parser = load_command_class("perftoolkit", command).create_parser("manage.py", command)
    if sub is not None:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = subparsers.choices[sub]
    params = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if not action.option_strings:
            key = f"<{action.dest}>"
        else:
            key = _long(action.option_strings)
            if key in DJANGO_ONLY:
                continue
        help_text = (action.help or "").replace("%%", "%")
        help_text = re.sub(r" \[default: [^\]]*\]$", "", help_text)
        help_text = help_text.replace(" (default: %(default)s)", "")
        default = action.default
        if isinstance(action, argparse._StoreTrueAction):
            default = False
        params[key] = (tuple(default) if isinstance(default, list) else default, help_text)
    return params


@pytest.mark.parametrize(("cli_path", "command", "sub"), PAIRS)
def test_cli_and_management_command_offer_the_same_parameters(
    cli_path: list[str], command: str, sub: str | None
) -> None:
    typer_params = _typer_params(cli_path)
    argparse_params = _argparse_params(command, sub)
    assert sorted(typer_params) == sorted(argparse_params)
    for name, (default, help_text) in typer_params.items():
        assert help_text, f"{name} has no help text"
        assert argparse_params[name] == (default, help_text), name


def test_every_management_command_has_its_cli_twin() -> None:
    from perftoolkit.management import commands

    names = {p.stem for p in __import__("pathlib").Path(commands.__file__).parent.glob("perf_*.py")}
    assert names == {command for _, command, _ in PAIRS}
