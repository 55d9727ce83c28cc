"""The statement fingerprint against the SQL libraries that could compute it, side by side.

    .venv/bin/python benchmarks/fingerprint.py          # writes benchmarks/results/fingerprint.{md,json}

Each approach turns a statement into its shape (literals and placeholders as `?`) and hashes it:

- perftoolkit: `core.fingerprint` (one regular-expression tokenizer, hand-written rules);
- sqlparse: its lexer, literal and placeholder tokens replaced, the rest joined back;
- sqlglot: its parser (SQLite dialect), literals and placeholders replaced in the tree, printed.

Memoisation is bypassed: every call does the whole work, as for a statement seen the first time.
The corpus is `benchmarks/data/statements.json`: the statements the sample project runs, plus a
few written by hand with literals. Each approach must also give one shape to two statements that
differ only in their literal values, or its time would not be comparable.
"""

from __future__ import annotations

import hashlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlglot
import sqlglot.expressions as exp
import sqlparse
from sqlparse import tokens as T

import perftoolkit
from perftoolkit.core import fingerprint as ours

HERE = Path(__file__).resolve().parent
ROUNDS = 7


def perftoolkit_shape(sql: str) -> str:
    return hashlib.sha1(ours.normalize.__wrapped__(sql).encode()).hexdigest()[:16]


def sqlparse_shape(sql: str) -> str:
    parts = []
    for token in sqlparse.parse(sql)[0].flatten():
        if token.ttype in T.Literal or token.ttype in T.Name.Placeholder:
            parts.append("?")
        elif token.ttype in T.Comment:
            continue
        elif token.is_whitespace:
            parts.append(" ")
        else:
            parts.append(token.value)
    return hashlib.sha1("".join(parts).encode()).hexdigest()[:16]


def sqlglot_shape(sql: str) -> str:
    text = sql.replace("%s", "?")
    tree = sqlglot.parse_one(text, read="sqlite")
    tree = tree.transform(
        lambda node: exp.Placeholder() if isinstance(node, exp.Literal | exp.Placeholder) else node
    )
    return hashlib.sha1(tree.sql(dialect="sqlite").encode()).hexdigest()[:16]


APPROACHES: dict[str, Callable[[str], str]] = {
    "perftoolkit (regular expressions)": perftoolkit_shape,
    f"sqlparse {sqlparse.__version__} (lexer)": sqlparse_shape,
    f"sqlglot {sqlglot.__version__} (parser)": sqlglot_shape,
}


def same_shape_for_other_literals(shape: Callable[[str], str]) -> bool:
    a = "SELECT id FROM t WHERE name = 'x' AND n IN (1, 2) LIMIT 5"
    b = "SELECT id FROM t WHERE name = 'yy' AND n IN (3, 4) LIMIT 7"
    return shape(a) == shape(b)


def measure(shape: Callable[[str], str], statements: list[str]) -> list[float]:
    """Microseconds per statement, one figure per round."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for sql in statements:
            shape(sql)
        rounds.append((time.perf_counter() - start) / len(statements) * 1e6)
    return rounds


def main() -> int:
    statements = json.loads((HERE / "data" / "statements.json").read_text())["statements"]
    rows = []
    for name, shape in APPROACHES.items():
        for sql in statements:
            shape(sql)  # every approach must read every statement
        rounds = measure(shape, statements)
        rows.append(
            {
                "approach": name,
                "us_per_statement": round(statistics.median(rounds), 1),
                "spread": [round(min(rounds), 1), round(max(rounds), 1)],
                "literal_variants_one_shape": same_shape_for_other_literals(shape),
            }
        )
    base = rows[0]["us_per_statement"]
    for row in rows:
        row["ratio"] = round(row["us_per_statement"] / base, 1)
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "perftoolkit": perftoolkit.__version__,
    }
    result = {"statements": len(statements), "rounds": ROUNDS, "machine": machine, "rows": rows}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "fingerprint.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"Fingerprint of {len(statements)} statements, median of {ROUNDS} rounds "
        f"(Python {machine['python']}, {machine['machine']}):",
        "",
        "| approach | µs / statement | ratio | spread (µs) | literal variants → one shape |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        low, high = row["spread"]
        lines.append(
            f"| {row['approach']} | {row['us_per_statement']:,} | {row['ratio']}× | "
            f"{low}–{high} | {'yes' if row['literal_variants_one_shape'] else 'no'} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "fingerprint.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
