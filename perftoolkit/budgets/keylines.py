"""Which line of a TOML text defines a key path: tomllib keeps no positions."""

from __future__ import annotations

import re
import tomllib


class KeyLines:
    """Which line defines a key path, found by scanning the text (tomllib keeps no positions).

    Understands table headers and `key = value` lines with dotted and quoted keys; a value inside
    an inline table or a multi-line string is attributed to the line that opens it.
    """

    def __init__(self, text: str) -> None:
        self.first: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                inner = line.lstrip("[")
                keys = _split_keys(inner, stop="]")
                if keys is not None:
                    table = keys
                    self.first.setdefault(table, number)
                continue
            keys = _split_keys(line, stop="=")
            for end in range(1, len(keys or ()) + 1):
                # A dotted key defines each table on its way: `a."b".c = 1` defines a and a."b".
                self.first.setdefault((*table, *keys[:end]), number)  # type: ignore[index]

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """The line of `path`, or of its longest prefix that has one."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.first:
                return self.first[path[:end]]
        return None


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _split_keys(text: str, *, stop: str) -> tuple[str, ...] | None:
    """`endpoints."GET a/".queries = 1` → ("endpoints", "GET a/", "queries"); None if not a key."""
    keys: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        ch = text[i]
        if ch in "\"'":
            end = _closing_quote(text, i)
            if end < 0:
                return None
            raw = text[i + 1 : end]
            keys.append(_unescape(raw) if ch == '"' else raw)
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if match is None:
                return None
            keys.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return tuple(keys) if i < n and text[i] == stop else None
    return None


def _closing_quote(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _unescape(raw: str) -> str:
    try:
        value: str = tomllib.loads(f'k = "{raw}"')["k"]
    except tomllib.TOMLDecodeError:
        return raw
    return value
