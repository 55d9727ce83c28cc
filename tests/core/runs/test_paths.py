from __future__ import annotations

import pytest

from perftoolkit.core.runs.paths import QueryPath, judge_queries, path_key, query_paths

LIST, ROW, MISS, SESSION = "list", "row", "cache_miss", "session"


def test_path_key_is_the_set_of_shapes() -> None:
    assert path_key([LIST, ROW, ROW]) == path_key([ROW, LIST])
    assert path_key([LIST, ROW]) != path_key([LIST, ROW, MISS])
    assert len(path_key([])) == 12


def test_query_paths_groups_requests_by_their_statements() -> None:
    paths = query_paths([[LIST, ROW], [LIST, ROW, ROW, ROW], [LIST, ROW, MISS], []])

    assert sorted((p.requests, p.queries_min, p.queries_max) for p in paths) == [
        (1, 0, 0),
        (1, 3, 3),
        (2, 2, 4),
    ]


def _judge(before: list[list[str]], after: list[list[str]]) -> tuple[str, tuple[str, ...]]:
    verdict = judge_queries(
        query_paths(before),
        query_paths(after),
        min_before=min(map(len, before)),
        min_after=min(map(len, after)),
    )
    return verdict.status, verdict.reasons


@pytest.mark.parametrize(
    ("before", "after", "status", "reasons"),
    [
        # The same code, another mix of paths: a rarer, costlier path met only in `after`.
        ([[LIST, ROW]] * 5, [[LIST, ROW]] * 4 + [[LIST, ROW, MISS]], "same", ()),
        # ... or met only in `before`; or only the rare path's share changed.
        ([[LIST, ROW]] * 4 + [[LIST, ROW, MISS]], [[LIST, ROW]] * 5, "same", ()),
        # The cheapest request of `after` is on a path `before` took: the mix moved, not the code.
        ([[LIST], [LIST, ROW, MISS]], [[LIST, ROW, MISS]] * 3, "same", ()),
        # An N+1 grew: the same statements, more of them per request.
        (
            [[LIST, ROW, ROW]] * 3,
            [[LIST, ROW, ROW, ROW, ROW]] * 3,
            "more",
            ("queries.max rose from 3 to 5 on requests that ran the same statements",),
        ),
        # A statement added to every request: no path matches, the cheapest runs more.
        (
            [[LIST, ROW]] * 10,
            [[LIST, ROW, SESSION]] * 10,
            "more",
            ("queries.min rose from 2 to 3: even the cheapest request runs more queries",),
        ),
        # ... which two requests cannot tell from a run that met only a rarer path (seen in an
        # A/A pair: POST api/media/, once 2 queries, once 3).
        ([[LIST, ROW]] * 2, [[LIST, ROW, SESSION]], "not_judged", ()),
        # Fewer, both ways.
        ([[LIST, ROW, ROW]] * 3, [[LIST, ROW]] * 3, "fewer", ()),
        ([[LIST, ROW, SESSION]] * 10, [[LIST, ROW]] * 10, "fewer", ()),
    ],
)
def test_judge_queries_path_by_path(
    before: list[list[str]], after: list[list[str]], status: str, reasons: tuple[str, ...]
) -> None:
    assert _judge(before, after) == (status, reasons)


def test_judge_queries_not_judged_without_counts() -> None:
    paths = query_paths([[LIST]])

    assert judge_queries(paths, paths, min_before=None, min_after=1).status == "not_judged"


def test_query_path_from_dict_refuses_bad_counts() -> None:
    assert QueryPath.from_dict(QueryPath("k", 2, 1, 3).to_dict()) == QueryPath("k", 2, 1, 3)
    with pytest.raises(ValueError, match="counts must be integers"):
        QueryPath.from_dict({"key": "k", "requests": -1, "queries_min": 1, "queries_max": 1})
