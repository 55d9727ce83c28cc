"""The console script's entry point: the CLI, or one line saying which extra it needs.

The `perftoolkit` command is installed with the package, but its libraries (typer, rich) come
with the `cli` extra: without them it says so rather than show an import traceback.
"""

from __future__ import annotations

import importlib.util
import sys

_CLI_LIBRARIES = ("typer", "rich")


def main() -> int:
    for name in _CLI_LIBRARIES:
        if importlib.util.find_spec(name) is None:
            sys.stderr.write(
                f"Error: the perftoolkit command needs {name}, which is not installed. Install "
                "the cli extra: pip install 'perftoolkit[cli]' (pip install "
                "'perftoolkit[cli,sql,audit]' for every command).\n"
            )
            return 1
    from perftoolkit.cli.main import main as run

    return run()
