"""Duplicate, write-on-read and unused-eager detectors on plain data."""

from __future__ import annotations

from perftoolkit.core.diagnosis.duplicates import detect_duplicates
from perftoolkit.core.diagnosis.eager import detect_unused_eager_loads
from perftoolkit.core.diagnosis.writes import detect_writes_on_read
from perftoolkit.core.events import CallSite, EagerLoad, QueryEvent, RequestProfile
from perftoolkit.core.findings import DetectionOptions
from perftoolkit.core.fingerprint import fingerprint
from perftoolkit.core.runs.run import duplicate_count

OPTIONS = DetectionOptions()
HERE = CallSite("app/views.py", 5, "view")
THERE = CallSite("app/views.py", 9, "view")


def q(sql: str, key: str | None = None, site: CallSite | None = HERE) -> QueryEvent:
    return QueryEvent(sql=sql, fingerprint=fingerprint(sql), ms=1.0, params_key=key, callsite=site)


def profile(*queries: QueryEvent, method: str = "GET", **kw: object) -> RequestProfile:
    return RequestProfile(method=method, route="r/", queries=queries, **kw)  # type: ignore[arg-type]


def test_detect_duplicates_same_params_twice() -> None:
    sql = 'SELECT "t"."id" FROM "t" WHERE "t"."x" = %s'
    [finding] = detect_duplicates(
        profile(q(sql, "k"), q(sql, "k", THERE), q(sql, "other")), OPTIONS
    )
    assert (finding.kind, finding.repeats, finding.callsite) == ("duplicate_query", 2, HERE)
    assert "ran 2 times at app/views.py:5 and app/views.py:9" in finding.message


def test_a_duplicate_no_project_line_ran_names_its_statement() -> None:
    """Library code ran it (an admin list counting its rows twice): the statement, shortened,
    is what says which query it is."""
    count = 'SELECT COUNT(*) AS "__count" FROM "testing_examples_roster"'
    [finding] = detect_duplicates(profile(q(count, "k", None), q(count, "k", None)), OPTIONS)
    assert finding.callsite is None
    assert finding.message == (
        'The same query with the same parameters ran 2 times (SELECT COUNT(*) AS "__count" FROM '
        '"testing_examples_roster"); run it once and reuse the result.'
    )
    long = "SELECT " + ", ".join(f'"t"."column_{i}"' for i in range(20)) + ' FROM "t"'
    [finding] = detect_duplicates(profile(q(long, "k", None), q(long, "k", None)), OPTIONS)
    shown = finding.message.split("(", 1)[1].rsplit(")", 1)[0]
    assert (len(shown), shown[-1]) == (100, "…")
    assert long.startswith(shown[:-1])


def test_a_change_lists_two_counts_of_its_rows_are_fixed_in_the_model_admin() -> None:
    """Django's change list counts the rows it lists and then every row of the model; with no
    filter the two statements are the same: not the project's code to reuse a result in."""
    count = 'SELECT COUNT(*) AS "__count" FROM "crm_company"'
    counts = (q(count, "k", None), q(count, "k", None))
    listed = profile(*counts, view="django.contrib.admin.options.changelist_view")
    [finding] = detect_duplicates(listed, OPTIONS)
    assert finding.fix is not None
    assert (finding.fix.action, finding.fix.code) == (
        "admin_option",
        "show_full_result_count = False",
    )
    assert finding.fix.note.startswith("a ModelAdmin's change list counts the rows it lists")
    [elsewhere] = detect_duplicates(profile(*counts, view="app.views.companies"), OPTIONS)
    assert elsewhere.fix is not None
    assert elsewhere.fix.action == "cache"
    own = (q(count, "k"), q(count, "k"))  # counted twice on a line of the project's own
    [mine] = detect_duplicates(profile(*own, view="app.admin.changelist_view"), OPTIONS)
    assert mine.fix is not None
    assert (
        mine.fix.code
        == "compute the result in view() and reuse it (a variable, @cached_property, or the cache)"
    )


def test_a_duplicate_at_a_serializer_fields_declaration_names_no_function() -> None:
    """`StepSerializer.ingredients` is where a field is declared, not a function to call once."""
    field = CallSite("app/serializers.py", 40, "StepSerializer.ingredients")
    sql = 'SELECT "i"."id" FROM "i" WHERE "i"."step_id" = %s'
    [finding] = detect_duplicates(profile(q(sql, "k", field), q(sql, "k", field)), OPTIONS)
    assert finding.fix is not None
    assert finding.fix.code == (
        "compute the result once and reuse it (a variable, @cached_property, or the cache)"
    )


def test_detect_duplicates_ignores_transaction_control_and_unkeyed() -> None:
    assert (
        detect_duplicates(profile(q('SAVEPOINT "s1"', "k"), q('SAVEPOINT "s1"', "k")), OPTIONS)
        == []
    )
    assert detect_duplicates(profile(q("SELECT 1"), q("SELECT 1")), OPTIONS) == []


def test_a_read_again_after_a_write_to_its_table_is_not_a_duplicate() -> None:
    """`get_or_create` after a lost race: SELECT token; INSERT token (fails); SELECT token again.
    The second read follows a write to the table it reads: not a duplicate, and not counted."""
    token = 'SELECT "authtoken_token"."key" FROM "authtoken_token" WHERE "user_id" = %s'
    insert = 'INSERT INTO "authtoken_token" ("key", "user_id") VALUES (%s, %s)'
    other = 'SELECT "auth_user"."id" FROM "auth_user" WHERE "auth_user"."id" = %s'
    raced = profile(q(token, "u1"), q(insert), q(token, "u1", THERE))
    assert (detect_duplicates(raced, OPTIONS), duplicate_count(raced)) == ([], 0)
    # A write elsewhere separates nothing; two reads after the write repeat each other.
    twice = profile(q(other, "u1"), q(insert), q(other, "u1"), q(token, "u1"), q(token, "u1"))
    found = detect_duplicates(twice, OPTIONS)
    assert sorted((f.sql_example.split('"')[1], f.repeats) for f in found) == [
        ("auth_user", 2),
        ("authtoken_token", 2),
    ]
    assert duplicate_count(twice) == 2


def test_detect_writes_on_read_only_for_safe_methods() -> None:
    update = 'UPDATE "sub" SET "used" = %s WHERE "sub"."id" = %s'
    [finding] = detect_writes_on_read(profile(q("SELECT 1"), q(update), q(update)), OPTIONS)
    assert (finding.kind, finding.repeats, finding.severity) == ("write_on_read", 2, "error")
    assert finding.message.startswith("GET r/ writes: UPDATE on sub at app/views.py:5 (view).")
    assert detect_writes_on_read(profile(q(update), method="POST"), OPTIONS) == []
    assert detect_writes_on_read(profile(q(update), method="HEAD"), OPTIONS) != []


def load(path: str, *hops: tuple[str, str]) -> EagerLoad:
    return EagerLoad("a.Book", path, "select", HERE, "a.X", hops)


def test_detect_unused_eager_loads() -> None:
    hops = (("a.Book", "author"), ("a.Author", "publisher"))
    loads = (load("author__publisher", *hops),)
    used_none = profile(eager_loads=loads, loaded=frozenset({"a.Book"}))
    [finding] = detect_unused_eager_loads(used_none, OPTIONS)
    assert finding.fix is not None
    assert (
        finding.fix.code
        == 'remove "author__publisher" (and "author", if listed) from .select_related(...)'
    )
    books_authors = frozenset({"a.Book", "a.Author"})
    half = profile(eager_loads=loads, loaded=books_authors, accessed=frozenset({hops[0]}))
    [narrow] = detect_unused_eager_loads(half, OPTIONS)
    assert narrow.fix is not None
    assert (
        narrow.fix.code
        == '.select_related("author") instead of .select_related("author__publisher")'
    )
    full = profile(eager_loads=loads, loaded=frozenset({"a.Book"}), accessed=frozenset(hops))
    assert detect_unused_eager_loads(full, OPTIONS) == []


def test_detect_unused_eager_loads_names_the_paths_in_between() -> None:
    """`select_related("a", "a__b", "a__b__c")` is one leaf path: each listed prefix keeps a join."""
    hops = (("a.Book", "author"), ("a.Author", "publisher"), ("a.Publisher", "country"))
    loads = (load("author__publisher__country", *hops),)
    books_authors = frozenset({"a.Book", "a.Author"})
    half = profile(eager_loads=loads, loaded=books_authors, accessed=frozenset(hops[:1]))
    [narrow] = detect_unused_eager_loads(half, OPTIONS)
    assert narrow.fix is not None
    assert narrow.fix.code == (
        '.select_related("author") instead of .select_related("author__publisher__country")'
        ' (and "author__publisher", if listed)'
    )


def test_detect_unused_eager_loads_quiet_past_a_hop_that_found_no_rows() -> None:
    """`prefetch_related("properties__kind")` where the book has no properties: no Property row
    was built, so nothing could read its `kind`; not a sign that it is unused."""
    hops = (("a.Book", "properties"), ("a.Property", "kind"))
    loads = (load("properties__kind", *hops),)
    none = profile(eager_loads=loads, loaded=frozenset({"a.Book"}), accessed=frozenset(hops[:1]))
    assert detect_unused_eager_loads(none, OPTIONS) == []
    some = profile(
        eager_loads=loads,
        loaded=frozenset({"a.Book", "a.Property"}),
        accessed=frozenset(hops[:1]),
    )
    [narrow] = detect_unused_eager_loads(some, OPTIONS)
    assert narrow.path == "properties__kind"


def test_detect_unused_eager_loads_quiet_when_no_rows_were_built() -> None:
    empty = profile(eager_loads=(load("author", ("a.Book", "author")),), loaded=frozenset())
    assert detect_unused_eager_loads(empty, OPTIONS) == []
