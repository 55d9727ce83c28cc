from __future__ import annotations

import pytest

from perftoolkit.core.diagnosis.ignore import (
    INLINE_RULE,
    IgnoreFilter,
    IgnoreRule,
    IgnoreRuleError,
    inline_kinds,
    nplusone_rules,
    parse_rules,
)
from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, IgnoredFinding, merge_ignored

SITE = CallSite("shop/views.py", 12, "book_list")


def finding(**changes: object) -> Finding:
    values: dict[str, object] = {
        "kind": "n_plus_one",
        "method": "GET",
        "route": "books/",
        "message": "N+1",
        "model": "shop.Book",
        "field": "author",
        "path": "author__user",
        "callsite": SITE,
    }
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"model": "shop.Book"}, True),
        ({"model": "shop.*", "field": "author"}, True),
        ({"model": "shop.Author"}, False),
        ({"field": "author__user"}, True),  # the whole path
        ({"field": "tags"}, False),
        ({"kind": "duplicate_query"}, False),
        ({"kind": ["duplicate_query", "n_plus_one"]}, True),
        ({"route": "books/"}, True),
        ({"route": "GET books/"}, True),
        ({"route": "POST *"}, False),
        ({"callsite": "shop/views.py"}, True),
        ({"callsite": "shop/*.py:12"}, True),
        ({"callsite": "shop/views.py:13"}, False),
        ({"callsite": "shop/views.py:book_list"}, True),
        ({"callsite": "shop/views.py:other"}, False),
    ],
)
def test_rule_matches_each_field(rule: dict[str, object], expected: bool) -> None:
    (parsed,) = parse_rules([rule], source="IGNORE")
    assert parsed.matches(finding()) is expected


def test_rule_without_callsite_never_matches_a_callsite_pattern() -> None:
    rule = IgnoreRule("IGNORE[0]", callsite="shop/views.py")
    assert not rule.matches(finding(callsite=None))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"model": "x"}, "IGNORE must be a list of rules (dicts), not dict"),
        (["shop.Book"], "IGNORE[0] must be a dict such as"),
        ([{"modle": "shop.Book"}], "IGNORE[0] has unknown key 'modle'"),
        ([{"reason": "old"}], "IGNORE[0] matches every finding"),
        ([{"model": 3}], "IGNORE[0]: model must be a string, not 3"),
        ([{"kind": "n_plus_two"}], "IGNORE[0]: kind 'n_plus_two' is not a finding kind"),
        ([{"kind": 5}], "IGNORE[0]: kind must be a finding kind or a list of them"),
    ],
)
def test_parse_rules_refuses(entries: object, message: str) -> None:
    with pytest.raises(IgnoreRuleError) as error:
        parse_rules(entries, source="IGNORE", kinds=("n_plus_one", "duplicate_query"))
    assert str(error.value).startswith(message)


def test_parse_rules_keeps_the_source_index() -> None:
    rules = parse_rules([{"model": "a.A"}, {"route": "x/", "reason": "r"}], source="IGNORE")
    assert [r.source for r in rules] == ["IGNORE[0]", "IGNORE[1]"]
    assert rules[1] == IgnoreRule("IGNORE[1]", route="x/")


def test_nplusone_rules_read_the_whitelist_as_nplusone_does() -> None:
    class Meta:
        label = "shop.Author"

    class Model:
        _meta = Meta

    rules = nplusone_rules(
        [
            {"label": "n_plus_one", "model": "shop.*", "field": "tags"},
            {"label": "unused_eager_load"},  # a label alone: that kind everywhere
            {"model": Model},  # a model class
            {"label": "something_else", "model": "shop.Book"},  # not ours: skipped
            {},  # nplusone matches nothing with it
        ]
    )
    assert rules == (
        IgnoreRule("NPLUSONE_WHITELIST[0]", kinds=("n_plus_one",), model="shop.*", field="tags"),
        IgnoreRule("NPLUSONE_WHITELIST[1]", kinds=("unused_eager_load",)),
        IgnoreRule("NPLUSONE_WHITELIST[2]", model="shop.Author"),
    )


def test_nplusone_rules_refuse_a_non_list() -> None:
    with pytest.raises(IgnoreRuleError, match="NPLUSONE_WHITELIST must be a list of dicts"):
        nplusone_rules({"model": "x"})


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        ("x = [b.author for b in books]  # perftoolkit: ignore[n_plus_one]", {"n_plus_one"}),
        (
            "x()  #perftoolkit:ignore[n_plus_one, duplicate_query]",
            {"n_plus_one", "duplicate_query"},
        ),
        ("x()  # perftoolkit: ignore", set()),
        ("{{ b.author }} {# perftoolkit: ignore[n_plus_one] #}", {"n_plus_one"}),
        ('s = "perftoolkit: ignore[n_plus_one]"', None),  # in a string, not a comment
        ("x()  # perftoolkit: ignored", None),
        ("x()", None),
    ],
)
def test_inline_kinds(line: str, kinds: set[str] | None) -> None:
    found = inline_kinds(line)
    assert (set(found) if found is not None else None) == kinds


def test_filter_splits_and_names_the_rule() -> None:
    lines = {12: "names = [b.author for b in books]  # perftoolkit: ignore[n_plus_one]"}
    ignore = IgnoreFilter(
        parse_rules([{"route": "other/"}, {"kind": "duplicate_query"}], source="IGNORE"),
        line_at=lambda site: lines.get(site.line),
    )
    inline = finding()
    by_rule = finding(kind="duplicate_query", callsite=CallSite("a.py", 3, "f"), path=None)
    by_route = finding(route="other/", callsite=None)
    kept_one = finding(callsite=CallSite("shop/views.py", 40, "g"))
    kept, ignored = ignore([inline, by_rule, by_route, kept_one])
    assert kept == [kept_one]
    assert ignored == [
        IgnoredFinding(inline, INLINE_RULE),
        IgnoredFinding(by_rule, "IGNORE[1]"),
        IgnoredFinding(by_route, "IGNORE[0]"),
    ]


def test_filter_inline_comment_of_another_kind_keeps_the_finding() -> None:
    ignore = IgnoreFilter(line_at=lambda site: "x  # perftoolkit: ignore[duplicate_query]")
    assert ignore([finding()]) == ([finding()], [])


def test_filter_without_line_reader_skips_inline_comments() -> None:
    assert IgnoreFilter()([finding()]) == ([finding()], [])


def test_ignored_findings_merge_across_requests_and_round_trip() -> None:
    one = IgnoredFinding(finding(repeats=4), "IGNORE[0]")
    two = IgnoredFinding(finding(repeats=6), "IGNORE[0]")
    (merged,) = merge_ignored([one, two])
    assert (merged.finding.repeats, merged.finding.requests, merged.rule) == (6, 2, "IGNORE[0]")
    data = merged.to_dict()
    assert data["rule"] == "IGNORE[0]"
    assert data["id"] == finding().id
    assert IgnoredFinding.from_dict(data) == merged
