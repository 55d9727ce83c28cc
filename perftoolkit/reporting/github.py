"""GitHub Actions workflow commands (`::error file=…,line=…::message`) for budget failures.

Escaping follows the runner's rules: in the message `%`, `\r` and `\n`; in a property value also
`:` and `,`.
"""

from __future__ import annotations

from collections.abc import Callable

from perftoolkit.core.budgets.rules import BudgetResult, describe_row


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_command(message: str, *, file: str | None, line: int | None, title: str) -> str:
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
        if line:
            props.append(f"line={line}")
    props.append(f"title={escape_property(title)}")
    return f"::error {','.join(props)}::{escape_data(message)}"


def budget_annotations(
    result: BudgetResult, *, path_for: Callable[[str], str], budget_file: str
) -> list[str]:
    """One `::error` per endpoint over budget, at its top finding's callsite (the line to fix),
    else at the endpoint's table in the budget file. `path_for` maps a project-relative file to
    the path GitHub knows (relative to the repository)."""
    commands = []
    file: str | None
    line: int | None
    for row in result.failed:
        top = next((f for f in row.findings if f.callsite is not None), None)
        message = describe_row(row)
        if top is not None and top.fix is not None:
            message += f" Fix: {top.fix.code}"
        if top is not None and top.callsite is not None:
            message += f" ({top.kind}: {top.message})"
            file, line = path_for(top.callsite.file), top.callsite.line
        else:
            file, line = budget_file, row.line
        commands.append(
            error_command(message, file=file, line=line, title=f"Query budget: {row.key}")
        )
    return commands
