from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perftoolkit.budgets import (
    BUDGET_FILE,
    find_budget_file,
    load_budgets,
    parse_budgets,
    render_budgets,
    write_budgets,
)
from perftoolkit.core.budgets.rules import Budgets, EndpointBudget, Limits
from perftoolkit.exceptions import ConfigurationError

VALID = """\
# Budgets for the API.
[defaults]
queries = 20
unlisted = "fail"  # every endpoint needs a table

# The course list: one query per table after select_related.
[endpoints."GET api/courses/"]
queries = 4  # was 26
duplicates = 0

[endpoints."GET api/courses/<int:pk>/"]
queries = 3
db_ms_p95 = 12.5
latency_ms_p95 = 80
"""


def _error(text: str, **kwargs: object) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_budgets(text, source="perf-budgets.toml", **kwargs)  # type: ignore[arg-type]
    return str(info.value)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- parsing ----------------------------------------------------------------------------------


def test_parse_budgets_valid_file() -> None:
    budgets = parse_budgets(VALID, source="perf-budgets.toml")
    assert budgets.defaults == Limits(queries=20)
    assert budgets.unlisted == "fail"
    assert budgets.source == "perf-budgets.toml"
    assert [(b.key, b.limits, b.line) for b in budgets.endpoints] == [
        ("GET api/courses/", Limits(queries=4, duplicates=0), 7),
        ("GET api/courses/<int:pk>/", Limits(queries=3, db_ms_p95=12.5, latency_ms_p95=80.0), 11),
    ]


def test_parse_budgets_empty_file_is_no_budgets() -> None:
    assert parse_budgets("", source="x.toml") == Budgets(source="x.toml")


def test_parse_budgets_other_toml_forms_read_the_same() -> None:
    dotted = 'endpoints."GET api/a/".queries = 3\n[endpoints."POST api/a/"]\nqueries = 5\n'
    inline = 'endpoints = {"GET api/a/" = {queries = 3}, "POST api/a/" = {queries = 5}}\n'
    for text in (dotted, inline):
        budgets = parse_budgets(text)
        assert [(b.key, b.limits.queries) for b in budgets.endpoints] == [
            ("GET api/a/", 3),
            ("POST api/a/", 5),
        ]
    assert [b.line for b in parse_budgets(dotted).endpoints] == [1, 2]


def test_parse_budgets_malformed_toml_names_file_line_and_fix() -> None:
    message = _error('[defaults]\nqueries = 4\n\n["GET api/courses/"\nqueries = "many"\n')
    assert message.startswith("perf-budgets.toml:4: not valid TOML, column ")
    assert '[endpoints."GET api/courses/"]' in message


def test_parse_budgets_duplicate_endpoint_table() -> None:
    message = _error(
        '[endpoints."GET api/a/"]\nqueries = 1\n\n[endpoints."GET api/a/"]\nqueries = 2\n'
    )
    assert message.startswith("perf-budgets.toml:4: not valid TOML")
    assert "merge the two" in message


def test_parse_budgets_duplicate_key() -> None:
    message = _error('[endpoints."GET api/a/"]\nqueries = 1\nqueries = 2\n')
    assert message.startswith("perf-budgets.toml:3: not valid TOML")


def test_parse_budgets_unknown_top_level_key() -> None:
    assert _error("[defaults]\nqueries = 1\n\n[endpoint]\nx = 1\n") == (
        "perf-budgets.toml:4: unknown key 'endpoint' (did you mean 'endpoints'?). A budget file "
        'has a [defaults] table and one [endpoints."METHOD route"] table per endpoint, e.g. '
        '[endpoints."GET api/courses/"] with queries = 4.'
    )


def test_parse_budgets_unknown_limit() -> None:
    assert _error('[endpoints."GET api/a/"]\nqueries = 1\nquery = 2\n') == (
        "perf-budgets.toml:3: unknown limit 'query' (did you mean 'queries'?); the limits are "
        "queries, duplicates, db_ms_p95, latency_ms_p95."
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"many"', "the string 'many'"),
        ("4.5", "4.5"),
        ("-1", "-1"),
        ("true", "true"),
        ("[4]", "an array"),
        ("{a = 1}", "a table"),
    ],
)
def test_parse_budgets_queries_wrong_type(value: str, shown: str) -> None:
    assert _error(f'\n[endpoints."GET api/a/"]\nqueries = {value}\n') == (
        f"perf-budgets.toml:3: queries must be a whole number of at least 0 (e.g. queries = 4), not {shown}."
    )


def test_parse_budgets_milliseconds_wrong_type() -> None:
    assert _error('[endpoints."GET api/a/"]\ndb_ms_p95 = "fast"\n') == (
        "perf-budgets.toml:2: db_ms_p95 must be milliseconds, a number of at least 0 "
        "(e.g. db_ms_p95 = 50.0), not the string 'fast'."
    )
    assert _error('[endpoints."GET api/a/"]\nlatency_ms_p95 = nan\n').startswith(
        "perf-budgets.toml:2: latency_ms_p95 must be milliseconds"
    )


def test_parse_budgets_unlisted_policy() -> None:
    assert _error('[defaults]\nunlisted = "warn"\n') == (
        'perf-budgets.toml:2: unlisted must be "ignore" or "fail", not the string \'warn\'.'
    )


def test_parse_budgets_defaults_not_a_table() -> None:
    assert _error("defaults = 4\n").startswith(
        "perf-budgets.toml:1: [defaults] must be a table, not 4."
    )


def test_parse_budgets_endpoint_not_a_table() -> None:
    assert _error('[endpoints]\n"GET api/a/" = 4\n') == (
        "perf-budgets.toml:2: endpoint 'GET api/a/' must be a table of limits (queries = 4), not 4."
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("api/a/", "endpoint key 'api/a/' is not \"METHOD route\""),
        ("FETCH api/a/", "endpoint key 'FETCH api/a/' is not \"METHOD route\""),
        ("get api/a/", "endpoint key 'get api/a/' should be written 'GET api/a/'."),
        ("GET /api/a/", "endpoint key 'GET /api/a/' should be written 'GET api/a/'."),
        ("GET  api/a/", "endpoint key 'GET  api/a/' should be written 'GET api/a/'."),
        ("GET ", "endpoint key 'GET ' should be written 'GET /'."),
        (
            "GET ^api/courses/(?P<pk>[^/.]+)/$",
            "endpoint key 'GET ^api/courses/(?P<pk>[^/.]+)/$' uses a regex; reports name this "
            "route 'GET api/courses/<pk>/': rename the table.",
        ),
    ],
)
def test_parse_budgets_endpoint_key_shape(key: str, message: str) -> None:
    text = f"[endpoints]\n\n[endpoints.{_quoted(key)}]\nqueries = 1\n"
    error = _error(text)
    assert error.startswith(f"perf-budgets.toml:3: {message}")


def _quoted(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_parse_budgets_reports_every_problem_at_once() -> None:
    text = '[defaults]\nunlisted = 1\n[endpoints."GET api/a/"]\nqueries = "x"\nfoo = 1\n'
    assert _error(text) == (
        "perf-budgets.toml has 3 problems:\n"
        '  - line 2: unlisted must be "ignore" or "fail", not 1.\n'
        "  - line 4: queries must be a whole number of at least 0 (e.g. queries = 4), not the string 'x'.\n"
        "  - line 5: unknown limit 'foo'; the limits are queries, duplicates, db_ms_p95, latency_ms_p95."
    )


def test_parse_budgets_stale_route_against_urlconf() -> None:
    text = '[endpoints."GET api/courses/"]\nqueries = 1\n\n[endpoints."GET api/course/<int:pk>/"]\nqueries = 1\n'
    routes = {"api/courses/", "api/courses/<int:pk>/"}
    assert _error(text, routes=routes) == (
        "perf-budgets.toml:4: 'GET api/course/<int:pk>/' names a route the URLconf does not have "
        "(any more). Rename the table to the route it became (closest: 'GET api/courses/<int:pk>/'), "
        "or remove it."
    )
    assert len(parse_budgets(text.replace("course/", "courses/"), routes=routes).endpoints) == 2


def test_parse_budgets_unmatched_route_is_always_known() -> None:
    budgets = parse_budgets('[endpoints."GET <unmatched>"]\nqueries = 2\n', routes=set())
    assert [b.route for b in budgets.endpoints] == ["<unmatched>"]


# -- the file on disk -----------------------------------------------------------------------------


def test_load_budgets_names_the_file(in_tmp: Path) -> None:
    (in_tmp / BUDGET_FILE).write_text('[endpoints."GET api/a/"]\nqueries = "many"\n')
    with pytest.raises(ConfigurationError, match=r"^perf-budgets\.toml:2: queries must be"):
        load_budgets(in_tmp / BUDGET_FILE)


def test_load_budgets_missing_and_not_utf8(in_tmp: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^nope\.toml does not exist\. Create it with"):
        load_budgets("nope.toml")
    (in_tmp / "bad.toml").write_bytes(b"queries = '\xff'\n")
    with pytest.raises(ConfigurationError, match=r"^bad\.toml is not UTF-8 text \(byte 11\)"):
        load_budgets("bad.toml")


def test_find_budget_file_in_working_directory(in_tmp: Path) -> None:
    (in_tmp / BUDGET_FILE).write_text("")
    assert find_budget_file() == in_tmp / BUDGET_FILE


def test_find_budget_file_explicit_wins(in_tmp: Path) -> None:
    (in_tmp / BUDGET_FILE).write_text("")
    (in_tmp / "ci.toml").write_text("")
    assert find_budget_file("ci.toml") == Path("ci.toml")
    with pytest.raises(
        ConfigurationError, match=r"^missing\.toml \(from --budgets\) does not exist"
    ):
        find_budget_file("missing.toml")
    assert find_budget_file("missing.toml", must_exist=False) == Path("missing.toml")


def test_find_budget_file_from_pyproject(in_tmp: Path) -> None:
    (in_tmp / "pyproject.toml").write_text('[tool.perftoolkit]\nbudgets = "ci/budgets.toml"\n')
    (in_tmp / "ci").mkdir()
    (in_tmp / "ci" / "budgets.toml").write_text("")
    (in_tmp / BUDGET_FILE).write_text("")
    assert find_budget_file() == in_tmp / "ci" / "budgets.toml"


def test_find_budget_file_pyproject_pointer_must_be_a_string(in_tmp: Path) -> None:
    (in_tmp / "pyproject.toml").write_text("[tool.perftoolkit]\nbudgets = 3\n")
    with pytest.raises(
        ConfigurationError,
        match=r"^pyproject\.toml: \[tool\.perftoolkit\] budgets must be a path string",
    ):
        find_budget_file()


def test_find_budget_file_falls_back_to_base_dir(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = tmp_path_factory.mktemp("project")
    (project / BUDGET_FILE).write_text("")
    with override_settings(BASE_DIR=project):
        assert find_budget_file() == project / BUDGET_FILE


def test_find_budget_file_from_perftoolkit_setting(in_tmp: Path) -> None:
    (in_tmp / "b.toml").write_text("")
    with override_settings(PERFTOOLKIT={"BUDGETS": in_tmp / "b.toml"}):
        assert find_budget_file() == in_tmp / "b.toml"


def test_find_budget_file_missing_says_how_to_create_one(in_tmp: Path) -> None:
    with override_settings(BASE_DIR=in_tmp), pytest.raises(ConfigurationError) as info:
        find_budget_file()
    assert str(info.value) == (
        f"No perf-budgets.toml found (looked in the working directory ({in_tmp})). Create one "
        "from a report with `perftoolkit budget record --report report.json`, or name it with "
        '--budgets PATH (or [tool.perftoolkit] budgets = "path" in pyproject.toml).'
    )
    assert find_budget_file(must_exist=False) == in_tmp / BUDGET_FILE


# -- rewriting ------------------------------------------------------------------------------------


def test_render_budgets_keeps_comments_order_and_untouched_lines() -> None:
    budgets = parse_budgets(VALID)
    changed = budgets.with_endpoint(
        EndpointBudget("GET", "api/courses/", Limits(queries=3, duplicates=0))
    )
    changed = changed.with_endpoint(EndpointBudget("POST", "api/courses/", Limits(queries=6)))
    assert render_budgets(changed, VALID) == VALID.replace(
        "queries = 4  # was 26", "queries = 3  # was 26"
    ) + ('\n[endpoints."POST api/courses/"]\nqueries = 6\n')


def test_render_budgets_unchanged_is_byte_identical() -> None:
    assert render_budgets(parse_budgets(VALID), VALID) == VALID


def test_render_budgets_new_file_is_commented_and_reads_back() -> None:
    budgets = Budgets(endpoints=(EndpointBudget("GET", "api/a/<int:pk>/", Limits(queries=4)),))
    text = render_budgets(budgets)
    assert text.startswith("# Query budgets per endpoint:")
    assert '[defaults]\nunlisted = "ignore" # or "fail"' in text
    assert text.endswith('[endpoints."GET api/a/<int:pk>/"]\nqueries = 4\n')
    assert parse_budgets(text).endpoints == budgets.endpoints


def test_render_budgets_into_inline_and_dotted_forms() -> None:
    new = EndpointBudget("PUT", "api/b/", Limits(queries=2))
    for text in (
        'endpoints = {"GET api/a/" = {queries = 3}}\n',
        'endpoints."GET api/a/".queries = 3\n',
    ):
        budgets = parse_budgets(text).with_endpoint(new)
        rendered = render_budgets(budgets, text)
        assert [(b.key, b.limits.queries) for b in parse_budgets(rendered).endpoints] == [
            ("GET api/a/", 3),
            ("PUT api/b/", 2),
        ]


def test_write_budgets_creates_then_updates_in_place(in_tmp: Path) -> None:
    path = in_tmp / BUDGET_FILE
    write_budgets(path, Budgets(endpoints=(EndpointBudget("GET", "api/a/", Limits(queries=4)),)))
    text = path.read_text()
    path.write_text(text.replace("queries = 4", "queries = 4  # reviewed"))
    write_budgets(path, Budgets(endpoints=(EndpointBudget("GET", "api/a/", Limits(queries=3)),)))
    assert "queries = 3  # reviewed" in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in in_tmp.iterdir()] == [BUDGET_FILE]


def test_write_budgets_refuses_stale_routes_and_keeps_the_file(in_tmp: Path) -> None:
    path = in_tmp / BUDGET_FILE
    path.write_text(VALID)
    budgets = parse_budgets(VALID).with_endpoint(
        EndpointBudget("GET", "api/old/", Limits(queries=1))
    )
    with pytest.raises(
        ConfigurationError, match="'GET api/old/' names a route the URLconf does not have"
    ):
        write_budgets(path, budgets, routes={"api/courses/", "api/courses/<int:pk>/"})
    assert path.read_text() == VALID


# -- fuzzing: never a traceback, always a message naming the file ---------------------------------

_FRAGMENTS = st.sampled_from(
    [
        "[defaults]",
        "[endpoints]",
        '[endpoints."GET api/a/"]',
        '[endpoints."get /a"]',
        "[[endpoints]]",
        '["GET api/courses/"',
        "queries = 4",
        'queries = "many"',
        "queries = -1",
        "queries = 1e400",
        "duplicates = 0.5",
        "db_ms_p95 = inf",
        'unlisted = "fail"',
        "unlisted = true",
        "x = [1, [2, {a = 3}]]",
        'endpoints = {"GET api/b/" = {queries = 1}}',
        'endpoints."GET api/c/".queries = 2',
        "defaults = 3",
        "# comment",
        '"""',
        "'''",
        "=",
        "[",
        "\\u0000",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=30)), max_size=12))
def test_parse_budgets_fuzz_never_crashes(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        budgets = parse_budgets(text, source="fuzz.toml", routes={"api/a/"})
    except ConfigurationError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml")
        assert "Traceback" not in message
    else:
        assert isinstance(budgets, Budgets)
        assert render_budgets(budgets, text) is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_load_budgets_fuzz_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / BUDGET_FILE
    path.write_bytes(data)
    message = ""
    try:
        load_budgets(path)
    except ConfigurationError as exc:
        message = str(exc)
    assert not message or BUDGET_FILE in message


def test_parse_budgets_deep_nesting_is_a_message() -> None:
    text = "x = " + "[" * 5000 + "]" * 5000
    message = _error(text)
    assert message.startswith("perf-budgets.toml")


def test_paths_in_messages_are_relative_to_the_working_directory(in_tmp: Path) -> None:
    (in_tmp / "sub").mkdir()
    (in_tmp / "sub" / BUDGET_FILE).write_text("queries = 1\n")
    with pytest.raises(
        ConfigurationError, match=r"^sub/perf-budgets\.toml:1: unknown key 'queries'"
    ):
        load_budgets(in_tmp / "sub" / BUDGET_FILE)
    assert os.getcwd() == str(in_tmp)


def test_parse_budgets_site_root_is_slash() -> None:
    """The middleware records the site root as "/": a budget file names it the same way."""
    budgets = parse_budgets('[endpoints."GET /"]\nqueries = 3\n', source="perf-budgets.toml")
    assert [(b.method, b.route) for b in budgets.endpoints] == [("GET", "/")]
