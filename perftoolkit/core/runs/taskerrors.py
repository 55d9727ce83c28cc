"""What Locust's tasks raised during a load test, read from its `<prefix>_exceptions.csv`.

An exception in a task (a bug in a locustfile, a response the task could not read) is not a
failed request: Locust keeps it apart from its request statistics. A run with any is incomplete
(see `audit.files.load_problems`), and `load.exceptions` in report.json lists them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LoadException:
    """An exception Locust's tasks raised, as many times as `count` (a bug in a locustfile, or
    a response the task could not read): the run did not send what it meant to."""

    count: int
    message: str
    traceback: str  # the last frame: where it was raised

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "message": self.message, "traceback": self.traceback}

    @classmethod
    def from_dict(cls, data: Any) -> LoadException:
        if not isinstance(data, dict):
            raise ValueError(f"an exception entry is an object, not {data!r}")
        count = data.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"an exception's count is {count!r}, not an integer ≥ 1")
        return cls(
            count=count,
            message=str(data.get("message", "")),
            traceback=str(data.get("traceback", "")),
        )


def parse_locust_exceptions(text: str) -> list[LoadException]:
    """Locust's `<prefix>_exceptions.csv` (Count, Message, Traceback, Nodes) → exceptions, the
    most frequent first; the traceback cut to its last frame (file, line, and the code)."""
    found = []
    for record in csv.DictReader(io.StringIO(text)):
        try:
            count = int(record["Count"])
            message = str(record["Message"] or "")
            trace = str(record.get("Traceback") or "")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Locust exceptions CSV row {record!r} is malformed ({exc})") from None
        if count > 0:
            found.append(LoadException(count, message, last_frame(trace)))
    found.sort(key=lambda e: (-e.count, e.message, e.traceback))
    return found


def last_frame(traceback: str) -> str:
    r"""`  File "x.py", line 3, in task\n    foo()` of a formatted traceback, on one line.

    >>> last_frame('  File "a.py", line 1, in <module>\n    run()\n  File "b.py", line 9, in run\n    1 / 0\n')
    'File "b.py", line 9, in run: 1 / 0'
    """
    # Python 3.11+ underlines the failing expression with a line of ~ and ^: not code.
    lines = [
        line.strip() for line in traceback.splitlines() if line.strip() and line.strip().strip("~^")
    ]
    starts = [i for i, line in enumerate(lines) if line.startswith("File ")]
    if not starts:
        return lines[-1] if lines else ""
    frame = lines[starts[-1] :]
    return frame[0] + (": " + " ".join(frame[1:]) if len(frame) > 1 else "")
