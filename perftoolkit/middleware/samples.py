"""Sample parameters for the index adviser's EXPLAIN: `<record dir>/samples/<fingerprint>.json`,
and the values that never go there.

The first run of each statement shape in a process leaves one sample (the recorder calls
`write_sample` after the response, never on the request path, and once per shape). What it
holds depends on the `SAMPLES` setting:

- `"redacted"` (the default): the values, unless one of them may be a secret. A value is a
  secret when the column it is bound to, or that column's table, is named like one (a word of
  the name is in `DEFAULT_SECRET_WORDS` or the `SECRET_COLUMNS` setting: `session_key`,
  `auth_user.password`, `api_key`), when the statement touches a table that exists to hold
  secrets (`SECRET_TABLE_WORDS`: `django_session`, `authtoken_token`), or when the value looks
  like one whatever its column (an e-mail address, a password hash, a token). Which column a
  `%s` is bound to is read from the statement with sqlglot, once per statement text; a
  placeholder that cannot be placed counts as a secret. A sample with a secret keeps none of
  its values (`"params": null` and the reason, which names columns, never values): the adviser
  then explains that statement with a generic plan and says so.
- `"on"`: every value, as recorded.
- `"off"`: no samples at all (the adviser uses generic plans throughout).

Files are 0600 in a 0700 directory: only their owner reads them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from perftoolkit.conf import get_settings
from perftoolkit.core.indexes.samples import encode_params

logger = logging.getLogger("perftoolkit")
SAMPLES_DIR = "samples"
# Words that make a column or a table name suggest a secret (matched against whole words of the
# name: `session_key` is session + key, `author_id` is neither). SECRET_COLUMNS adds to them.
DEFAULT_SECRET_WORDS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "pin",
    "secret",
    "token",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "apikey",
    "key",
    "session",
    "sessionid",
    "auth",
    "otp",
    "totp",
    "mfa",
    "email",
    "emailaddress",
    "phone",
    "salt",
    "hash",
    "credential",
    "credentials",
    "cookie",
    "signature",
    "ssn",
    "iban",
)
# A statement on a table whose name has one of these words keeps none of its values.
SECRET_TABLE_WORDS: tuple[str, ...] = (
    "session",
    "sessions",
    "token",
    "tokens",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "apikey",
    "otp",
    "totp",
    "secret",
    "secrets",
    "password",
    "credential",
    "credentials",
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# pbkdf2_sha256$…$…$…, argon2$argon2id$…, bcrypt_sha256$…, $2b$12$…, sha1$…
_HASH = re.compile(r"\$?[a-z0-9_]+\$[^\s$]*\$\S+")
# Opaque identifiers: 16+ characters of one "word", with letters and digits (API and session
# keys, signed values, UUIDs written as text).
_TOKEN = re.compile(r"(?=[^\s]*[0-9])(?=[^\s]*[A-Za-z])[A-Za-z0-9_\-+/=.:]{16,}")


def words(name: str) -> set[str]:
    """The lower-case words of a column or table name: `userEmail2` → {user, email}."""
    return {w.lower() for w in _WORD.findall(name)}


@dataclass(frozen=True, slots=True)
class SecretNames:
    """Which column and table names suggest a secret."""

    words: frozenset[str]
    columns: frozenset[tuple[str, str]]  # exact (table, column) pairs from `table.column` entries

    @classmethod
    def configured(cls, extra: tuple[str, ...]) -> SecretNames:
        entries = [e.lower() for e in (*DEFAULT_SECRET_WORDS, *extra)]
        return cls(
            words=frozenset(e for e in entries if "." not in e),
            columns=frozenset(tuple(e.split(".", 1)) for e in entries if "." in e),  # type: ignore[misc]
        )

    def column(self, table: str | None, column: str) -> bool:
        if table is not None and (table.lower(), column.lower()) in self.columns:
            return True
        if column.lower() in self.words or words(column) & self.words:
            return True
        return table is not None and self.table(table)

    def table(self, table: str) -> bool:
        return table.lower() in self.words or bool(words(table) & self.words)


def secret_table(table: str) -> bool:
    return table.lower() in SECRET_TABLE_WORDS or bool(words(table) & set(SECRET_TABLE_WORDS))


def looks_secret(value: Any) -> bool:
    """A value that is a secret whatever column it is bound to."""
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if isinstance(value, list | tuple):
        return any(looks_secret(v) for v in value)
    if not isinstance(value, str):
        return False
    return bool(_EMAIL.fullmatch(value) or _HASH.fullmatch(value) or _TOKEN.fullmatch(value))


def redaction(sql: str, params: Any, vendor: str, names: SecretNames) -> str | None:
    """Why the values of this run must not be written, or None when they may be."""
    if isinstance(params, dict):
        return "named parameters (not placed on columns)"
    values = list(params or ())
    if not values:
        return None
    plan = _bindings(sql, vendor)
    if plan is None:
        return "the statement could not be read to place its parameters on columns"
    tables, bindings = plan
    secret_tables = sorted(t for t in tables if secret_table(t))
    if secret_tables:
        return f"a query on {', '.join(secret_tables)}"
    if len(bindings) != len(values):
        return "the statement's placeholders do not match its parameters"
    columns: list[str] = []
    suspicious: list[str] = []
    for position, (binding, value) in enumerate(zip(bindings, values, strict=True)):
        if binding is None:
            return f"parameter {position + 1} is not bound to a column"
        for table, column in binding:
            if names.column(table, column):
                columns.append(f"{table}.{column}" if table else column)
        if looks_secret(value):
            suspicious.append(str(position + 1))
    reasons = []
    if columns:
        reasons.append(f"values bound to {', '.join(dict.fromkeys(columns))}")
    if suspicious:
        which = f"parameter{'s' if len(suspicious) > 1 else ''} {', '.join(suspicious)}"
        reasons.append(f"{which} (its value looks like a secret)")
    return "; ".join(reasons) or None


# Which (table, column) pairs each placeholder is bound to: () for a value no column is compared
# with (LIMIT, OFFSET, an output column), None when it cannot be placed. Cached per statement text: the parse is the expensive part.
_Binding = tuple[tuple[str | None, str], ...] | None


@lru_cache(maxsize=4096)
def _bindings(sql: str, vendor: str) -> tuple[frozenset[str], tuple[_Binding, ...]] | None:
    try:
        return _read_bindings(sql, vendor)
    except Exception:  # sqlglot on a statement it cannot handle: no placement, no values
        logger.debug("perftoolkit: cannot place the parameters of %r", sql, exc_info=True)
        return None


def _read_bindings(sql: str, vendor: str) -> tuple[frozenset[str], tuple[_Binding, ...]] | None:
    from sqlglot import exp

    from perftoolkit.core.indexes.sqlshape import named_placeholders, parse_tree

    text, count = named_placeholders(sql)
    tree = parse_tree(text, vendor)
    if tree is None:
        return None
    tables = frozenset(t.name for t in tree.find_all(exp.Table) if t.name)
    aliases = {t.alias_or_name: t.name for t in tree.find_all(exp.Table) if t.name}
    found: dict[int, _Binding] = {}
    for placeholder in tree.find_all(exp.Placeholder):
        label = str(placeholder.name)
        if not label.startswith("p") or not label[1:].isdigit():
            return None
        found[int(label[1:])] = _binding(placeholder, aliases, tables)
    if sorted(found) != list(range(count)):
        return None
    return tables, tuple(found[i] for i in range(count))


def _binding(node: Any, aliases: dict[str, str], tables: frozenset[str]) -> _Binding:
    from sqlglot import exp

    child = node
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Limit | exp.Offset | exp.Fetch | exp.Order | exp.Group):
            return ()
        if isinstance(parent, exp.Select) and child in parent.expressions:
            # An output column (`SELECT %s AS "a"` of .exists(), a Value() annotation): a
            # constant of the code, compared with nothing; its value is still checked itself.
            return ()
        if isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
            insert = parent.parent.parent
            if isinstance(insert, exp.Insert) and isinstance(insert.this, exp.Schema):
                position = parent.expressions.index(child)
                columns = insert.this.expressions
                if position < len(columns):
                    return ((insert.this.this.name, columns[position].name),)
            return None
        if isinstance(parent, exp.Predicate):
            columns = list(parent.find_all(exp.Column))
            if not columns:
                return None
            return tuple(_resolve(c, aliases, tables) for c in columns)
        child, parent = parent, parent.parent
    return None


def _resolve(
    column: Any, aliases: dict[str, str], tables: frozenset[str]
) -> tuple[str | None, str]:
    qualifier = column.table
    if qualifier:
        return aliases.get(qualifier, qualifier), column.name
    return (next(iter(tables)) if len(tables) == 1 else None), column.name


@lru_cache(maxsize=8)
def _names(extra: tuple[str, ...]) -> SecretNames:
    return SecretNames.configured(extra)


# Writing ---------------------------------------------------------------------------------------


def prepare_directory(record_dir: Path) -> Path | None:
    """Create the record directory and, unless SAMPLES is "off", its private `samples/`."""
    record_dir.mkdir(parents=True, exist_ok=True)
    if get_settings().samples == "off":
        return None
    samples = record_dir / SAMPLES_DIR
    samples.mkdir(mode=0o700, exist_ok=True)
    try:
        if samples.stat().st_mode & 0o077:  # made by an earlier version, or under another umask
            samples.chmod(0o700)
    except OSError:
        logger.warning("perftoolkit: %s is readable by others and cannot be made private", samples)
    return samples


def write_sample(
    record_dir: Path, fingerprint: str, sql: str, params: Any, alias: str, vendor: str
) -> None:
    """The sample of one statement shape (the first run of it), as SAMPLES says."""
    conf = get_settings()
    if conf.samples == "off":
        return
    path = record_dir / SAMPLES_DIR / f"{fingerprint}.json"
    if path.exists():
        return
    data: dict[str, Any] = {
        "fingerprint": fingerprint,
        "sql": sql,
        "alias": alias,
        "vendor": vendor,
    }
    reason = None
    if conf.samples != "on" and params is not None:
        try:
            reason = redaction(sql, params, vendor, _names(conf.secret_columns))
        except Exception:  # whatever went wrong, the safe answer is to keep no value
            logger.debug("perftoolkit: redaction failed for %s", fingerprint, exc_info=True)
            reason = "its parameters could not be checked for secrets"
    try:
        if reason is not None:
            data.update(params=None, redacted=reason)
        else:
            data["params"] = encode_params(params)
        payload = json.dumps(data, sort_keys=True, default=str).encode()
    except (TypeError, ValueError) as exc:
        # Parameters JSON cannot hold: the index adviser explains this shape with a generic plan
        # and says so in its notes.
        logger.debug("perftoolkit: no sample parameters for %s (%s)", fingerprint, exc)
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:  # the directory went away, the disk is full: no sample, no harm
        logger.debug("perftoolkit: no sample for %s (%s)", fingerprint, exc)
        return
    try:
        os.write(fd, payload)
    except OSError as exc:
        logger.debug("perftoolkit: sample %s not written (%s)", fingerprint, exc)
        os.close(fd)
        path.unlink(missing_ok=True)  # a part of a sample is worse than none
        return
    os.close(fd)
