"""`python -m perftoolkit.contrib.precommit FILE…`: the budget-file lint of `.pre-commit-hooks.yaml`.

Reads each budget file as `perftoolkit budget check` would (strictly: TOML syntax, unknown keys,
wrong types, malformed endpoint keys, an endpoint listed twice) and prints every problem with its
file and line. No Django: the routes are not checked against a URLconf here (the budget check
does that when it runs with --settings). Exit 0 when every file reads, 1 otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from perftoolkit.budgets.reader import load_budgets
from perftoolkit.exceptions import ConfigurationError


def main(argv: Sequence[str] | None = None) -> int:
    files = list(sys.argv[1:] if argv is None else argv)
    if not files:
        sys.stderr.write("usage: python -m perftoolkit.contrib.precommit perf-budgets.toml …\n")
        return 1
    failed = 0
    for file in files:
        try:
            budgets = load_budgets(file)
        except ConfigurationError as exc:
            sys.stderr.write(f"{exc}\n")
            failed += 1
        else:
            sys.stdout.write(f"{file}: {len(budgets.endpoints)} endpoints, readable\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
