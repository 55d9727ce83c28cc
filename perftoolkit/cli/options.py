"""typer flags built from an options dataclass (`perftoolkit.core.options`).

`options_command()` returns a function typer registers like any other command: its parameters
are the options' fields (plus any the CLI alone needs, such as `--settings`), and calling it
builds the options object and hands it to the service.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import typer

from perftoolkit.core.options import OptionSpec, command_options


@cache
def _choice_enum(name: str, choices: tuple[str, ...]) -> type[enum.StrEnum]:
    return enum.StrEnum(name, {c: c for c in choices})  # type: ignore[return-value]


def _help(text: str) -> str:
    """Help text as typer's rich renderer prints it literally (`[tool.perftoolkit]` is not markup)."""
    return text.replace("[", "\\[")


def _parameter(spec: OptionSpec) -> inspect.Parameter:
    kind = spec.value_type
    help_text = _help(spec.help)
    if spec.choices:
        kind = _choice_enum("".join(p.title() for p in spec.name.split("_")), spec.choices)
    show_default: bool | str = True
    metavar: str | None = spec.metavar
    default: Any = spec.default
    if spec.argument:
        info: Any = typer.Argument(
            ... if spec.required else default,
            help=help_text,
            metavar=metavar or spec.name.upper(),
        )
        annotation: Any = kind if spec.required or default is not None else kind | None
        if spec.repeat:  # one or more: `report build DIR [DIR …]`
            annotation = list[kind]  # type: ignore[valid-type]
        return inspect.Parameter(
            spec.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation
        )
    if spec.negatable:
        flag = spec.flags[0]
        info = typer.Option(None, f"{flag}/--no-{flag[2:]}", help=help_text, show_default=False)
        return inspect.Parameter(
            spec.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=bool | None
        )
    if spec.required:
        info = typer.Option(..., *spec.flags, help=help_text, metavar=metavar)
        return inspect.Parameter(
            spec.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind
        )
    if spec.repeat:
        annotation = list[kind] | None  # type: ignore[valid-type]
        show_default = ", ".join(map(str, spec.default)) if spec.default else False
        metavar = "|".join(spec.choices) if spec.choices else spec.flags[0][2:].upper()
        default = None
    elif spec.default is None:
        annotation = kind | None
        show_default = False
    else:
        annotation = kind
    if kind is bool:
        show_default = False
    info = typer.Option(
        default, *spec.flags, help=help_text, show_default=show_default, metavar=metavar
    )
    return inspect.Parameter(
        spec.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation
    )


def _value(spec: OptionSpec, given: Any) -> Any:
    if spec.repeat:
        if given is None:
            return spec.default
        return tuple(str(v) if spec.choices else v for v in given)
    if spec.choices and given is not None:
        return str(given)
    return given


def options_command(
    options_class: type,
    run: Callable[..., None],
    *,
    name: str,
    doc: str,
    extra: Sequence[inspect.Parameter] = (),
    subcommand: str | None = None,
) -> Callable[..., None]:
    """A typer command whose parameters are `options_class`'s fields (those of `subcommand`)
    plus `extra`; it calls `run(options, **extra_values)`."""
    specs = command_options(options_class, subcommand)

    def command(**values: Any) -> None:
        options = options_class(**{s.name: _value(s, values.pop(s.name)) for s in specs})
        run(options, **values)

    parameters = [_parameter(spec) for spec in specs] + list(extra)
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = command.__qualname__ = name
    command.__doc__ = doc
    return command


def extra_option(name: str, annotation: Any, default: Any, help: str) -> inspect.Parameter:
    """A flag only the CLI has (the management command runs inside the project already)."""
    info = typer.Option(default, help=help, show_default=default is not None)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation
    )
