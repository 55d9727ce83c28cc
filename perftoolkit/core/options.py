"""Command options declared once, as the fields of a frozen dataclass.

A service (the audit, the budget gate, index advice, the report verbs) takes one options object;
its fields say which flag (or positional argument) sets each one, with the help text, the
choices, whether it repeats, and which subcommands take it. The `perftoolkit` CLI (typer) and the
management commands (argparse) both build their parameters from these fields, so the two
spellings of a command cannot drift apart: same names, same defaults, same help.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Example:
...     report: str = option(REQUIRED, "A report.json.", argument=True)
...     users: int = option(10, "Concurrent users.")
...     gates: tuple[str, ...] = option((), "Fail on this gate.", flags=("--fail-on",),
...                                    choices=("budget", "regression"), commands=("check",))
>>> [(o.name, o.flags, o.default, o.repeat) for o in command_options(Example, "check")]
[('report', (), None, False), ('users', ('--users',), 10, False), ('gates', ('--fail-on',), (), True)]
>>> [o.name for o in command_options(Example, "record")]
['report', 'users']
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

_KEY = "perftoolkit.option"


class _Required:
    """The default of an option that has none: the command line must give it."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One parameter of a command: what the CLI and the management command both offer."""

    name: str  # the dataclass field
    flags: tuple[str, ...]  # "--spawn-rate" first, then any short form; () for an argument
    help: str
    default: Any  # None for a required one (see `required`)
    type: Any  # the field's resolved type: int, float, str, bool, Path, their `| None`, tuples
    choices: tuple[str, ...] = ()
    repeat: bool = False  # a tuple field: the flag may be given several times
    required: bool = False
    argument: bool = False  # positional: `report show REPORT`
    metavar: str | None = None
    negatable: bool = False  # a `bool | None` switch with its `--no-` form (None: not given)

    @property
    def value_type(self) -> Any:
        """The type of one value given on the command line (`X | None` → X, tuple → items)."""
        kind = self.type
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if typing.get_origin(kind) is tuple:
            return args[0]
        if args and len(args) == 1:  # X | None
            return args[0]
        return kind


def option(
    default: Any,
    help: str,
    *,
    flags: tuple[str, ...] = (),
    choices: tuple[str, ...] = (),
    argument: bool = False,
    metavar: str | None = None,
    negatable: bool = False,
    commands: tuple[str, ...] = (),
) -> Any:
    """A dataclass field that is also a command-line parameter: `--field-name` unless `flags`, or
    a positional `argument`; `REQUIRED` as the default when it has none; `commands` the
    subcommands that take it (all when empty)."""
    metadata = {
        _KEY: {
            "help": help,
            "flags": flags,
            "choices": choices,
            "argument": argument,
            "metavar": metavar,
            "negatable": negatable,
            "commands": commands,
        }
    }
    if isinstance(default, list | dict | set):
        raise TypeError("option defaults must be immutable (use a tuple)")
    if default is REQUIRED:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def command_options(options_class: type, command: str | None = None) -> list[OptionSpec]:
    """The parameters of an options dataclass (for one of its subcommands), in field order
    (fields made without `option()` are not parameters: the caller fills them)."""
    hints = typing.get_type_hints(options_class)
    specs = []
    for each in dataclasses.fields(options_class):
        meta = each.metadata.get(_KEY)
        if meta is None:
            continue
        if command is not None and meta["commands"] and command not in meta["commands"]:
            continue
        kind = hints[each.name]
        required = each.default is dataclasses.MISSING
        specs.append(
            OptionSpec(
                name=each.name,
                flags=()
                if meta["argument"]
                else meta["flags"] or ("--" + each.name.replace("_", "-"),),
                help=meta["help"],
                default=None if required else each.default,
                type=kind,
                choices=meta["choices"],
                repeat=typing.get_origin(kind) is tuple,
                required=required,
                argument=meta["argument"],
                metavar=meta["metavar"],
                negatable=meta["negatable"],
            )
        )
    return specs
