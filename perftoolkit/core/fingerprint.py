"""SQL fingerprinting: one shape per statement, whatever its literal values.

`normalize()` replaces literals and placeholders with `?`, collapses `IN (?, ?, …)` and multi-row
`VALUES` lists and squeezes whitespace; `fingerprint()` is a short stable hash of that text. Both
are pure and memoised: the middleware calls them after the response, once per distinct statement.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache

_TOKEN = re.compile(
    r"""
    (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])
  | (?P<placeholder>%\([^)]*\)s|%s|\?\d*|\$\d+|(?<![:\w]):[A-Za-z_]\w*)
  | (?P<number>(?<![\w.])-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)(?![\w]))
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_IN_LIST = re.compile(r"\bIN \((?:\?|NULL)(?:, (?:\?|NULL))*\)", re.IGNORECASE)
_VALUES_ROWS = re.compile(
    r"\bVALUES \((?:[^()]|\([^()]*\))*\)(?:, \((?:[^()]|\([^()]*\))*\))*", re.IGNORECASE
)
_SAVEPOINT = re.compile(r"\b(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) \S+", re.IGNORECASE)
# Keywords that can follow FROM/JOIN/UPDATE/INTO without naming a table: an upsert's
# `ON CONFLICT (...) DO UPDATE SET`, `FOR UPDATE OF t`, `FOR UPDATE NOWAIT`.
_NOT_TABLES = frozenset({"SELECT", "LATERAL", "SET", "OF", "NOWAIT", "SKIP", "ONLY"})
_TABLE = re.compile(
    r'\b(?:FROM|JOIN|UPDATE|INTO)\s+((?:"[^"]+"|`[^`]+`|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)',
    re.IGNORECASE,
)
# Statement kinds that change rows.
WRITE_KINDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT"})


@lru_cache(maxsize=4096)
def normalize(sql: str) -> str:
    """The statement with every literal and placeholder written `?`, in canonical spacing.

    >>> normalize("SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'x'")
    'SELECT * FROM t WHERE id IN (...) AND name = ?'
    """
    parts: list[str] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind == "comment":
            continue
        if kind in ("string", "placeholder", "number"):
            parts.append("?")
        elif kind == "space":
            if parts and parts[-1] != " ":
                parts.append(" ")
        else:
            parts.append(text)
    text = "".join(parts).strip()
    text = re.sub(r"\( ", "(", text)
    text = re.sub(r" \)", ")", text)
    text = re.sub(r" ?, ?", ", ", text)
    text = _IN_LIST.sub("IN (...)", text)
    text = _VALUES_ROWS.sub("VALUES (...)", text)
    return _SAVEPOINT.sub(r"\1 ?", text)


@lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """A 16-hex-digit id shared by every statement of the same shape."""
    return hashlib.sha1(normalize(sql).encode(), usedforsecurity=False).hexdigest()[:16]


def statement_kind(sql: str) -> str:
    """The statement's verb, upper-case (`SELECT`, `INSERT`, …); a `WITH` takes its main verb."""
    words = re.findall(r"[A-Za-z]+", sql[:2000])
    if not words:
        return ""
    first: str = words[0].upper()
    if first == "WITH":
        depth = 0
        for match in re.finditer(r"\(|\)|[A-Za-z]+", sql):
            token: str = match.group()
            if token == "(":
                depth += 1
            elif token == ")":
                depth -= 1
            elif depth == 0 and token.upper() in WRITE_KINDS | {"SELECT"}:
                return token.upper()
    return first


def is_count(sql: str) -> bool:
    """Whether a statement counts rows (`SELECT COUNT(*) …`, a count over a subquery)."""
    return "COUNT(" in sql[:200].upper()


def is_write(sql: str) -> bool:
    """True for statements that change rows (INSERT, UPDATE, DELETE, …)."""
    return statement_kind(sql) in WRITE_KINDS


@lru_cache(maxsize=4096)
def tables(sql: str) -> tuple[str, ...]:
    """The tables a statement reads or writes, unquoted, sorted, without duplicates."""
    names = set()
    for match in _TABLE.finditer(normalize(sql)):
        name = match.group(1)
        if name.upper() in _NOT_TABLES:
            continue
        names.add(re.sub(r'["`]', "", name))
    return tuple(sorted(names))


def repeat_keys(
    statements: Iterable[tuple[str, str | None]],
) -> list[tuple[str, str, tuple[int, ...]] | None]:
    """For each (sql, parameters key) of one request in order, the key under which it repeats an
    earlier statement exactly: the same SQL and parameters and, for a read, no write in between
    to a table it reads (reading again what was just written, as `get_or_create` does after a
    lost race, is not a duplicate). None for a statement without a parameters key.

    >>> read = 'SELECT "t"."id" FROM "t" WHERE "t"."id" = %s'
    >>> keys = repeat_keys([(read, "k"), (read, "k"), ('INSERT INTO "t" ("id") VALUES (%s)', None),
    ...                     (read, "k")])
    >>> keys[0] == keys[1], keys[1] == keys[3], keys[2]
    (True, False, None)
    """
    written: dict[str, int] = {}
    out: list[tuple[str, str, tuple[int, ...]] | None] = []
    for sql, key in statements:
        write = is_write(sql)
        if key is None:
            out.append(None)
        elif write:
            out.append((sql, key, ()))
        else:
            out.append((sql, key, tuple(written.get(t, 0) for t in tables(sql))))
        if write:
            for table in tables(sql):
                written[table] = written.get(table, 0) + 1
    return out
