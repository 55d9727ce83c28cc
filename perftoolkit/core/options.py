"""Command options declared once, as the fields of a frozen dataclass.

A service (the audit, the budget gate) takes one options object; its fields say which flag sets
each one, with the help text, the choices and whether it repeats. The `perftoolkit` CLI (typer)
and the management commands (argparse) both build their flags from these fields, so the two
spellings of a command cannot drift apart: same names, same defaults, same help.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Example:
...     users: int = option(10, "Concurrent users.")
...     gates: tuple[str, ...] = option((), "Fail on this gate.", flags=("--fail-on",),
...                                    choices=("budget", "regression"))
>>> [(o.name, o.flags, o.default, o.repeat) for o in command_options(Example)]
[('users', ('--users',), 10, False), ('gates', ('--fail-on',), (), True)]
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

_KEY = "perftoolkit.option"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One flag of a command: what the CLI and the management command both offer."""

    name: str  # the dataclass field
    flags: tuple[str, ...]  # "--spawn-rate" first, then any short form
    help: str
    default: Any
    type: Any  # the field's resolved type: int, float, str, bool, Path, their `| None`, tuples
    choices: tuple[str, ...] = ()
    repeat: bool = False  # a tuple field: the flag may be given several times

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
) -> Any:
    """A dataclass field that is also a command-line flag (`--field-name` unless `flags`)."""
    metadata = {_KEY: {"help": help, "flags": flags, "choices": choices}}
    if isinstance(default, list | dict | set):
        raise TypeError("option defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata=metadata)


def command_options(options_class: type) -> list[OptionSpec]:
    """The flags of an options dataclass, in field order (fields made without `option()` are
    not flags: the caller fills them)."""
    hints = typing.get_type_hints(options_class)
    specs = []
    for each in dataclasses.fields(options_class):
        meta = each.metadata.get(_KEY)
        if meta is None:
            continue
        kind = hints[each.name]
        specs.append(
            OptionSpec(
                name=each.name,
                flags=meta["flags"] or ("--" + each.name.replace("_", "-"),),
                help=meta["help"],
                default=each.default,
                type=kind,
                choices=meta["choices"],
                repeat=typing.get_origin(kind) is tuple,
            )
        )
    return specs
