"""Query counts compared exactly, path by path.

Requests to one endpoint do not all do the same work: a cache miss, a session read, "already
enrolled" against a new enrollment each run other statements. Which of those paths a run happens
to take differs from run to run of the same code, so "the worst request ran more queries" can rise
without any change. A request's *path* is the set of statement shapes it ran; two requests with
the same set took the same way through the code. An endpoint runs more queries when:

- a path both runs took ran more statements in one request (a loop or an N+1 grew), or
- even its cheapest request ran more, on a path the other run never took (a statement was added
  to every path, so the paths no longer match) — judged once both runs sent `MIN_REQUESTS`
  requests, since with two requests "every path" may just be the two a run happened to meet.

Both are exact — no tolerance, no test — and neither fires for a path only one run happened to
take. With no path in common and too few requests, the counts are "not judged".

>>> before = query_paths([["a", "b"], ["a", "b", "c"]])
>>> after = query_paths([["a", "b"], ["a", "b", "b"]])
>>> [(p.requests, p.queries_min, p.queries_max) for p in after]
[(2, 2, 3)]
>>> judge_queries(before, after, min_before=2, min_after=2)
QueryVerdict(status='more', reasons=('queries.max rose from 2 to 3 on requests that ran the same statements',))
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

QueryStatus = Literal["more", "fewer", "same", "not_judged"]
# Requests a side before "even the cheapest request runs more" is a verdict.
MIN_REQUESTS = 10


def path_key(fingerprints: Iterable[str]) -> str:
    """The path a request took: its distinct statement shapes, hashed (12 hex digits)."""
    shapes = "\n".join(sorted(set(fingerprints)))
    return hashlib.sha1(shapes.encode(), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class QueryPath:
    """The requests of one endpoint that ran the same set of statement shapes."""

    key: str
    requests: int
    queries_min: int
    queries_max: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "requests": self.requests,
            "queries_min": self.queries_min,
            "queries_max": self.queries_max,
        }

    @classmethod
    def from_dict(cls, data: Any) -> QueryPath:
        if not isinstance(data, dict):
            raise ValueError(f"a query path is an object, not {data!r}")
        values = [data.get(k) for k in ("requests", "queries_min", "queries_max")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise ValueError(f"a query path's counts must be integers ≥ 0, not {values!r}")
        return cls(str(data.get("key", "")), *values)  # type: ignore[arg-type]


def query_paths(requests: Iterable[Sequence[str]]) -> tuple[QueryPath, ...]:
    """Each request given as the fingerprints of its statements, in order → its paths."""
    counts: dict[str, list[int]] = {}
    for fingerprints in requests:
        counts.setdefault(path_key(fingerprints), []).append(len(fingerprints))
    return tuple(QueryPath(key, len(n), min(n), max(n)) for key, n in sorted(counts.items()))


@dataclass(frozen=True, slots=True)
class QueryVerdict:
    status: QueryStatus
    reasons: tuple[str, ...] = ()  # why "more": what a regression says


def judge_queries(
    before: Sequence[QueryPath],
    after: Sequence[QueryPath],
    *,
    min_before: float | None,
    min_after: float | None,
) -> QueryVerdict:
    """More, fewer or the same queries, exactly; not judged when a run recorded no query count."""
    if min_before is None or min_after is None:
        return QueryVerdict("not_judged")
    old = {p.key: p for p in before}
    common = [(old[p.key], p) for p in after if p.key in old]
    rises = [(o.queries_max, n.queries_max) for o, n in common if n.queries_max > o.queries_max]
    falls = [(o.queries_max, n.queries_max) for o, n in common if n.queries_max < o.queries_max]
    reasons = []
    # The cheapest request of `after` on a path `before` also took: only the mix of paths moved.
    cheapest = min(after, key=lambda p: p.queries_min, default=None)
    enough = min(_requests(before), _requests(after)) >= MIN_REQUESTS or not (before and after)
    if min_after > min_before and enough and (cheapest is None or cheapest.key not in old):
        reasons.append(
            f"queries.min rose from {min_before:g} to {min_after:g}: "
            "even the cheapest request runs more queries"
        )
    if rises:
        was, now = max(rises, key=lambda pair: pair[1] - pair[0])
        reasons.append(
            f"queries.max rose from {was} to {now} on requests that ran the same statements"
        )
    if reasons:
        return QueryVerdict("more", tuple(reasons))
    if falls or (min_after < min_before and enough):
        return QueryVerdict("fewer")
    return QueryVerdict("same" if common or enough else "not_judged")


def _requests(paths: Sequence[QueryPath]) -> int:
    return sum(p.requests for p in paths)
