"""When two responses to one request are the same: the status, and the body read for what it is.

JSON is compared as data (key order and spacing are not a change); HTML and text after removing
what differs between two runs of unchanged code: CSRF tokens, and whatever the project declares
volatile (`PERFTOOLKIT["VOLATILE"]`: regular expressions such as a rendered timestamp). Other
bodies are compared byte for byte. What is compared is a digest, so a replay hands over a few
bytes per response, not the response.

>>> a = response_key(200, "application/json", b'{"a": 1, "b": [1, 2]}')
>>> a == response_key(200, "application/json; charset=utf-8", b'{"b":[1,2],"a":1}')
True
>>> html = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
>>> one = response_key(200, "text/html", html.format("x" * 64).encode())
>>> one == response_key(200, "text/html", html.format("y" * 64).encode())
True
>>> one == response_key(404, "text/html", html.format("y" * 64).encode())
False
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
)


@dataclass(frozen=True, slots=True)
class ResponseKey:
    """What is compared of a response: the status, what its body is read as, and its digest."""

    status: int
    kind: str  # json | text | bytes
    digest: str
    size: int = field(compare=False)  # shown when bodies differ

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "kind": self.kind, "digest": self.digest, "size": self.size}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ResponseKey:
        return cls(
            status=int(str(data["status"])),
            kind=str(data["kind"]),
            digest=str(data["digest"]),
            size=int(str(data["size"])),
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
    kind, data = _normalised(content_type.lower(), body, volatile)
    if now and kind in ("json", "text"):
        data = without_now(data.decode(), now).encode()
    digest = hashlib.sha256(location.encode() + b"\0" + data).hexdigest()
    return ResponseKey(status, kind, digest, len(body))


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


def difference(before: ResponseKey, after: ResponseKey) -> str:
    """Why two keys differ, in a few words ("" when they do not)."""
    if before.status != after.status:
        return f"status {before.status} → {after.status}"
    if before.digest != after.digest:
        what = {"json": "JSON data", "text": "body"}.get(before.kind, "body bytes")
        return f"{what} changed ({before.size} → {after.size} bytes)"
    return ""


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
        for pattern in _CSRF:
            text = pattern.sub(r"\1\2", text)
        for pattern in volatile:
            text = pattern.sub("", text)
        return "text", text.encode()
    return "bytes", body
