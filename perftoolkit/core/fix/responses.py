"""When two responses to one request are the same: the status, and the body read for what it is.

JSON is compared as data (key order and spacing are not a change); HTML and text after removing
what differs between two runs of unchanged code: CSRF tokens, and whatever the project declares
volatile (`PERFTOOLKIT["VOLATILE"]`: regular expressions such as a rendered timestamp). Other
bodies are compared byte for byte. What is compared is a digest, so a replay hands over a few
bytes per response, not the response; the normalised body it digests (`normalised_body`) can be
kept aside, and `difference` then says where two bodies differ.

>>> a = response_key(200, "application/json", b'{"a": 1, "b": [1, 2]}')
>>> a == response_key(200, "application/json; charset=utf-8", b'{"b":[1,2],"a":1}')
True
>>> html = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
>>> one = response_key(200, "text/html", html.format("x" * 64).encode())
>>> one == response_key(200, "text/html", html.format("y" * 64).encode())
True
>>> one == response_key(404, "text/html", html.format("y" * 64).encode())
False
>>> minified = '<input name=csrfmiddlewaretoken type=hidden value={}>'
>>> two = response_key(200, "text/html", minified.format("x" * 64).encode())
>>> two == response_key(200, "text/html", minified.format("y" * 64).encode())
True
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

# Django's masked CSRF token (64 characters) wherever a template rendered it, and the input and
# meta tags that carry it.
_CSRF = (
    re.compile(r"""(name=["']csrfmiddlewaretoken["']\s+value=["'])[^"']*(["'])"""),
    re.compile(r"""(value=["'])[^"']*(["']\s+name=["']csrfmiddlewaretoken["'])"""),
    re.compile(r"""(name=["']csrf[-_]token["']\s+content=["'])[^"']*(["'])"""),
    re.compile(r"""(["']?csrf[-_]?token["']?\s*[:=]\s*["'])[A-Za-z0-9]{32,64}(["'])""", re.I),
    # A Content-Security-Policy nonce on a script or style tag (django-csp: new per response).
    re.compile(r"""(<(?:script|style|link)\b[^>]*?\bnonce=["'])[^"']*(["'])""", re.I),
)

# The hidden input in any attribute order, its values quoted or not (minified HTML:
# `<input name=csrfmiddlewaretoken type=hidden value=…>`).
_CSRF_INPUT = re.compile(r"<input\b[^>]*csrfmiddlewaretoken[^>]*>", re.I)
_VALUE = re.compile(r"""(\bvalue=)("[^"]*"|'[^']*'|[^\s>"']+)""", re.I)


def _without_csrf(text: str) -> str:
    for pattern in _CSRF:
        text = pattern.sub(r"\1\2", text)
    return _CSRF_INPUT.sub(lambda tag: _VALUE.sub(_emptied, tag.group(0)), text)


def _emptied(value: re.Match[str]) -> str:
    quote = value.group(2)[0]
    return value.group(1) + (quote * 2 if quote in "\"'" else "")


@dataclass(frozen=True, slots=True)
class ResponseKey:
    """What is compared of a response: the status, what its body is read as, and its digest."""

    status: int
    kind: str  # json | text | bytes
    digest: str
    size: int = field(compare=False)  # shown when bodies differ
    location: str = field(default="", compare=False)  # a redirect's target (in the digest)
    # The exception a server error was raised by ("AttributeError: … at views.py:16"), shown
    # when the status changed.
    exception: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "kind": self.kind,
            "digest": self.digest,
            "size": self.size,
            "location": self.location,
            "exception": self.exception,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ResponseKey:
        return cls(
            status=int(str(data["status"])),
            kind=str(data["kind"]),
            digest=str(data["digest"]),
            size=int(str(data["size"])),
            location=str(data.get("location") or ""),
            exception=str(data.get("exception") or ""),
        )


# A date and time as forms, templates and JSON render them: 2026-12-05T07:15:40, 2026-12-05 07:15
_STAMP = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?")

Window = tuple[datetime, datetime]  # naive, from and to


def response_key(
    status: int,
    content_type: str,
    body: bytes,
    volatile: Sequence[re.Pattern[str]] = (),
    location: str = "",
    now: Sequence[Window] = (),
) -> ResponseKey:
    """The comparable form of a response (`location`: a redirect's target, part of it). A date
    and time within one of the `now` windows (the response's own run, in the project's time
    zone and in UTC) is the time of the run, not data: a form's initial "now" would otherwise
    change between two runs a second apart."""
    return keyed(status, *normalised_body(content_type, body, volatile, now), len(body), location)


def normalised_body(
    content_type: str,
    body: bytes,
    volatile: Sequence[re.Pattern[str]] = (),
    now: Sequence[Window] = (),
) -> tuple[str, bytes]:
    """What a body is read as (json | text | bytes) and the form of it that is compared."""
    kind, data = _normalised(content_type.lower(), body, volatile)
    if now and kind in ("json", "text"):
        data = without_now(data.decode(), now).encode()
    return kind, data


def keyed(status: int, kind: str, data: bytes, size: int, location: str = "") -> ResponseKey:
    """The key of a normalised body (`size`: the bytes of the body as sent)."""
    digest = hashlib.sha256(location.encode() + b"\0" + data).hexdigest()
    return ResponseKey(status, kind, digest, size, location)


def without_now(text: str, now: Sequence[Window]) -> str:
    """`text` with every date and time that falls in a `now` window replaced by "<now>" (to the
    minute when the text has no seconds).

    >>> run = [(datetime(2026, 12, 5, 7, 15, 40), datetime(2026, 12, 5, 7, 15, 41))]
    >>> without_now('value="2026-12-05T07:15:40" on 2026-12-05 07:15, born 2026-12-05T07:00', run)
    'value="<now>" on <now>, born 2026-12-05T07:00'
    """

    def replace(match: re.Match[str]) -> str:
        year, month, day, hour, minute, second = match.groups()
        try:
            stamp = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
        except ValueError:
            return match.group(0)
        for start, end in now:
            low = start.replace(second=0 if second is None else start.second, microsecond=0)
            if low <= stamp <= end:
                return "<now>"
        return match.group(0)

    return _STAMP.sub(replace, text)


def difference(
    before: ResponseKey,
    after: ResponseKey,
    before_body: bytes | None = None,
    after_body: bytes | None = None,
) -> str:
    """Why two keys differ, in one line ("" when they do not); given both normalised bodies, where
    they first differ: a JSON path and both values, or a line and both sides around the first
    differing character, and whether the same rows came back in another order."""
    if before.status != after.status:
        raised = f" ({after.exception})" if after.exception else ""
        return f"status {before.status} → {after.status}{raised}"
    if before.digest == after.digest:
        return ""
    if before.location != after.location:
        return f"redirect target changed: {_quoted(before.location)} → {_quoted(after.location)}"
    size = f"({before.size} → {after.size} bytes)"
    if before_body is None or after_body is None or before.kind != after.kind:
        what = {"json": "JSON data", "text": "body"}.get(before.kind, "body bytes")
        return f"{what} changed {size}"
    if before.kind == "json":
        where = _json_difference(before_body, after_body)
        return f"JSON data changed {where}" if where else f"JSON data changed {size}"
    if before.kind == "text":
        where = _text_difference(
            before_body.decode("utf-8", "replace"), after_body.decode("utf-8", "replace")
        )
        return f"body changed {where} {size}" if where else f"body changed {size}"
    at = next(
        (i for i, (a, b) in enumerate(zip(before_body, after_body, strict=False)) if a != b),
        min(len(before_body), len(after_body)),
    )
    return f"body bytes changed at byte {at} {size}"


# characters shown before and after the first difference of two lines
EXCERPT_BEFORE, EXCERPT_AFTER = 32, 16
VALUE = 40  # characters of a JSON value shown


def _json_difference(before: bytes, after: bytes) -> str:
    """`at $.path: a → b` of the first difference of two JSON documents, `at $.path: same items,
    another order` for a list whose items came back reordered; "" if they do not parse.

    >>> _json_difference(b'{"a": [1, {"b": "x"}]}', b'{"a": [1, {"b": "y"}]}')
    'at $.a[1].b: "x" → "y"'
    >>> _json_difference(b'{"a": [1, 2, 3]}', b'{"a": [3, 1, 2]}')
    'at $.a: same items, another order (first at $.a[0]: 1 → 3)'
    """
    try:
        path = _first_json_difference(json.loads(before), json.loads(after), "$")
    except ValueError:
        return ""
    return f"at {path}" if path else ""


_ABSENT = object()


def _first_json_difference(a: object, b: object, path: str) -> str:
    if a == b and type(a) is type(b):
        return ""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            step = f"{path}.{key}" if re.fullmatch(r"[A-Za-z_]\w*", key) else f"{path}[{key!r}]"
            found = _first_json_difference(a.get(key, _ABSENT), b.get(key, _ABSENT), step)
            if found:
                return found
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) == len(b) and sorted(map(_canonical, a)) == sorted(map(_canonical, b)):
            index = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            first = f"{_json_value(a[index])} → {_json_value(b[index])}"
            return f"{path}: same items, another order (first at {path}[{index}]: {first})"
        for index in range(max(len(a), len(b))):
            found = _first_json_difference(
                a[index] if index < len(a) else _ABSENT,
                b[index] if index < len(b) else _ABSENT,
                f"{path}[{index}]",
            )
            if found:
                return found
        return ""
    return f"{path}: {_json_value(a)} → {_json_value(b)}"


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _json_value(value: object) -> str:
    if value is _ABSENT:
        return "(absent)"
    return _shortened(json.dumps(value, sort_keys=True, ensure_ascii=False), VALUE)


def _text_difference(before: str, after: str) -> str:
    """`at line N: '…before…' → '…after…'` around the first differing character of the first
    differing line (whitespace collapsed), and whether the lines are the same in another order.

    >>> print(_text_difference("<ul>\\n<li>Anna</li>\\n</ul>\\n", "<ul>\\n<li>Anne</li>\\n</ul>\\n"))
    at line 2: '<li>Anna</li>' → '<li>Anne</li>'
    >>> print(_text_difference("<li>a</li>\\n<li>b</li>\\n", "<li>b</li>\\n<li>a</li>\\n"))
    at line 1: same lines, another order: '<li>a</li>' → '<li>b</li>'
    """
    a, b = before.splitlines(), after.splitlines()
    index = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    if index == len(a) == len(b):  # the lines are equal: only their ends differ
        return "in its line endings"
    one = a[index] if index < len(a) else None
    two = b[index] if index < len(b) else None
    order = "same lines, another order: " if sorted(a) == sorted(b) else ""
    left, right = _excerpts(one, two)
    return f"at line {index + 1}: {order}{left} → {right}"


def _excerpts(one: str | None, two: str | None) -> tuple[str, str]:
    """Both lines around their first differing character, whitespace collapsed and quoted; a
    missing line is "(no line)"."""
    x = " ".join(one.split()) if one is not None else ""
    y = " ".join(two.split()) if two is not None else ""
    if x == y and one is not None and two is not None:  # they differ in whitespace alone
        x, y = one, two
    at = next(
        (i for i, (c, d) in enumerate(zip(x, y, strict=False)) if c != d), min(len(x), len(y))
    )
    start = max(0, at - EXCERPT_BEFORE)
    end = at + EXCERPT_AFTER

    def cut(text: str | None, line: str) -> str:
        if text is None:
            return "(no line)"
        return repr(("…" if start > 0 else "") + line[start:end] + ("…" if end < len(line) else ""))

    return cut(one, x), cut(two, y)


def _quoted(text: str) -> str:
    return json.dumps(_shortened(text, VALUE), ensure_ascii=False) if text else "(none)"


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Words, other characters one by one, and an attribute's quoted value whole (`name="…"`).
_WORDS = re.compile(r"""(?<==)"[^"\n]*"|(?<==)'[^'\n]*'|\w+|\W""")
# where a changing word's context starts: after a space, a quote, `=`, `>` or `(`
_CONTEXT_STOPS = frozenset(" \t\"'=>(")
_CONTEXT_LIMIT = 40  # characters of context at most
_MASK = "\u2026"  # what a changing word becomes: "data-djc-id-c…"


def learned_volatile(first: bytes, second: bytes) -> tuple[re.Pattern[str], ...]:
    r"""What changes between two runs of the same code, when only words do: each word that differs
    (a component's random id, a nonce), as a pattern of the text just before it and a word
    (`data-djc-id-` + a word). Empty when the runs differ in any other way (lines or words
    added or removed, a word with no context before it on its line): then nothing is learnt.

    >>> a = b'<div data-djc-id-ciOkfxU="">x</div>\n<p>1 result</p>'
    >>> b = b'<div data-djc-id-cw8Xq9M="">x</div>\n<p>1 result</p>'
    >>> [p.pattern for p in learned_volatile(a, b)]
    ['(data\\-djc\\-id\\-)\\w+']
    >>> learned_volatile(b"<p>1 result</p>", b"<p>2 results</p>")
    ()
    """
    try:
        one, two = first.decode().splitlines(), second.decode().splitlines()
    except UnicodeDecodeError:
        return ()
    if len(one) != len(two):
        return ()
    contexts: dict[str, None] = {}
    for line_one, line_two in zip(one, two, strict=True):
        if line_one == line_two:
            continue
        words_one, words_two = _WORDS.findall(line_one), _WORDS.findall(line_two)
        if len(words_one) != len(words_two):
            return ()
        for index, (a, b) in enumerate(zip(words_one, words_two, strict=True)):
            if a == b:
                continue
            if a[0] in "\"'" and b[0] == a[0]:
                # An attribute's quoted value (a signed id, a token with `:` or `/` in it): the
                # value is learnt whole, after the attribute's name.
                name = (
                    _context(words_one, index - 1) if index and words_one[index - 1] == "=" else ""
                )
                if not name[:1].isalpha():
                    return ()
                contexts[f"{name}={a[0]}"] = None
                continue
            if not (a[0].isalnum() or a[0] == "_") or not (b[0].isalnum() or b[0] == "_"):
                return ()
            context = _context(words_one, index)
            if len(context.strip()) < 2:
                return ()
            contexts[context] = None
    return tuple(
        re.compile(f"({re.escape(c)})[^{c[-1]}]*" if c[-1] in "\"'" else f"({re.escape(c)})\\w+")
        for c in contexts
    )


def _context(words: list[str], index: int) -> str:
    """The text before `words[index]` back to a space, a quote, `=`, `>` or `(` (at most
    _CONTEXT_LIMIT characters)."""
    taken: list[str] = []
    size = 0
    for word in reversed(words[:index]):
        if word[0] in _CONTEXT_STOPS or size + len(word) > _CONTEXT_LIMIT:
            break
        taken.append(word)
        size += len(word)
    return "".join(reversed(taken))


def learned_context(pattern: re.Pattern[str]) -> str:
    """The text a learned pattern's word follows: "data-djc-id-" of `(data\\-djc\\-id\\-)\\w+`,
    `data-field_id="` of a quoted attribute's value."""
    found = re.match(r"\(((?:\\.|[^\\)])*)\)", pattern.pattern)
    return re.sub(r"\\(.)", r"\1", found.group(1) if found else "")


def masked(data: bytes, learned: Sequence[re.Pattern[str]]) -> bytes:
    """`data` (a normalised body) with every word that `learned` patterns match replaced by "…"."""
    text = data.decode("utf-8", "replace")
    for pattern in learned:
        text = pattern.sub(lambda m: m.group(1) + _MASK, text)
    return text.encode()


def compile_volatile(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _normalised(
    content_type: str, body: bytes, volatile: Sequence[re.Pattern[str]]
) -> tuple[str, bytes]:
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            pass
        else:
            return "json", json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    if content_type.startswith("text/") or "html" in content_type or "xml" in content_type:
        charset = re.search(r"charset=([\w-]+)", content_type)
        try:
            text = body.decode(charset.group(1) if charset else "utf-8")
        except (LookupError, UnicodeDecodeError):
            return "bytes", body
        text = _without_csrf(text)
        for pattern in volatile:
            text = pattern.sub("", text)
        return "text", text.encode()
    return "bytes", body
