"""argparse flags built from an options dataclass (`perftoolkit.core.options`): the management
commands offer exactly the flags, defaults and help texts of the `perftoolkit` CLI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TypeVar

from perftoolkit.core.options import OptionSpec, command_options

_T = TypeVar("_T")


def add_option_arguments(
    parser: argparse.ArgumentParser, options_class: type, command: str | None = None
) -> None:
    """One argument per parameter of `options_class` (of its subcommand `command`), `dest` = the
    field's name."""
    for spec in command_options(options_class, command):
        if spec.argument:
            parser.add_argument(spec.name, **_argument(spec))
        else:
            parser.add_argument(*spec.flags, dest=spec.name, **_argument(spec))


def _argument(spec: OptionSpec) -> dict[str, Any]:
    help_text = spec.help.replace("%", "%%")
    kind = spec.value_type
    if spec.negatable:  # --x / --no-x, None when neither is given (as typer offers it)
        return {"action": argparse.BooleanOptionalAction, "default": None, "help": help_text}
    if kind is bool:  # a switch, off unless given (as typer offers it)
        return {"action": "store_true", "help": help_text}
    argument: dict[str, Any] = {"type": kind if kind in (int, float, Path) else str}
    if spec.metavar or (not spec.choices and not spec.argument):
        # As typer shows it: the flag's name (`--record-dir RECORD_DIR`), not the field's.
        argument["metavar"] = spec.metavar or spec.flags[0][2:].upper().replace("-", "_")
    if spec.argument:
        argument["help"] = help_text
        if spec.repeat:  # one or more: `report build DIR [DIR …]`
            argument["nargs"] = "+" if spec.required else "*"
            argument["metavar"] = spec.name.upper()
            return argument
        if not spec.required:
            argument["nargs"] = "?"
            argument["default"] = spec.default
        return argument
    if spec.required:
        argument["required"] = True
        argument["help"] = help_text
        return argument
    if spec.choices:
        argument["choices"] = spec.choices
    if spec.repeat:
        argument["action"] = "append"
        argument["default"] = None
    else:
        argument["default"] = spec.default
    shown = _shown(spec)
    argument["help"] = f"{help_text} [default: {shown}]" if shown else help_text
    return argument


def _shown(spec: OptionSpec) -> str:
    """The default as typer's --help shows it (nothing when there is none)."""
    value = spec.default
    if spec.repeat:
        return ", ".join(map(str, value))
    if value is None:
        return ""
    return str(value)


def options_from(
    options_class: type[_T], values: dict[str, Any], command: str | None = None, **fixed: Any
) -> _T:
    """The options object from parsed arguments (`fixed` fills the fields that are not flags)."""
    given: dict[str, Any] = {}
    for spec in command_options(options_class, command):
        value = values[spec.name]
        if spec.repeat:
            value = tuple(value) if value is not None else spec.default
        given[spec.name] = value
    return options_class(**given, **fixed)
