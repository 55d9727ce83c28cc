"""Why two responses to one request differ, in one line: where, and both sides."""

from __future__ import annotations

import json

import pytest

from perftoolkit.core.fix.responses import (
    ResponseKey,
    difference,
    keyed,
    learned_context,
    learned_volatile,
    masked,
    normalised_body,
    response_key,
)


def compared(content_type: str, before: bytes, after: bytes) -> str:
    """`difference` as perf_fix calls it: both keys and both normalised bodies."""
    one, two = normalised_body(content_type, before), normalised_body(content_type, after)
    return difference(keyed(200, *one, len(before)), keyed(200, *two, len(after)), one[1], two[1])


def test_json_names_the_first_differing_path_and_both_values() -> None:
    before = {"count": 2, "results": [{"id": 1, "title": "Intro"}, {"id": 2, "title": "SQL"}]}
    after = {"count": 2, "results": [{"id": 1, "title": "Intro"}, {"id": 2, "title": "SQL 2"}]}
    assert compared(
        "application/json", json.dumps(before).encode(), json.dumps(after).encode()
    ) == ('JSON data changed at $.results[1].title: "SQL" → "SQL 2"')


def test_json_key_missing_on_one_side_and_values_shortened() -> None:
    long = "x" * 60
    assert compared("application/json", b'{"a": 1}', b'{"a": 1, "b": 2}') == (
        "JSON data changed at $.b: (absent) → 2"
    )
    assert compared("application/json", json.dumps({"note": long}).encode(), b'{"note": null}') == (
        f'JSON data changed at $.note: "{"x" * 38}… → null'
    )
    assert compared("application/json", b'{"a b": [1]}', b'{"a b": [1, 2]}') == (
        "JSON data changed at $['a b'][1]: (absent) → 2"
    )


def test_json_list_of_the_same_items_in_another_order_says_so() -> None:
    before = {"results": [{"id": 1}, {"id": 2}, {"id": 3}]}
    after = {"results": [{"id": 1}, {"id": 3}, {"id": 2}]}
    assert compared(
        "application/json", json.dumps(before).encode(), json.dumps(after).encode()
    ) == (
        'JSON data changed at $.results: same items, another order (first at $.results[1]: {"id": 2}'
        ' → {"id": 3})'
    )


def test_html_names_the_line_and_an_excerpt_of_both_sides_with_whitespace_collapsed() -> None:
    line = (
        '<td class="name">{}</td>   <td class="price">  £12.00 </td><td class="stock">In stock</td>'
    )
    before = f"<html>\n<body>\n<table>\n  {line.format('Anna Karenina')}\n</table>\n".encode()
    after = f"<html>\n<body>\n<table>\n  {line.format('Anna Karenine')}\n</table>\n".encode()
    assert compared("text/html; charset=utf-8", before, after) == (
        "body changed at line 4: "
        "'<td class=\"name\">Anna Karenina</td> <td class…' → "
        "'<td class=\"name\">Anna Karenine</td> <td class…' (136 → 136 bytes)"
    )


def test_html_excerpt_is_cut_around_the_difference_of_a_long_line() -> None:
    head = '<meta name="description" content="Books, music and films for every reader" />'
    before = f'{head}<meta name="created" content="5th Dec 2026 06:46" />'.encode()
    after = f'{head}<meta name="created" content="5th Dec 2026 06:47" />'.encode()
    assert compared("text/html", before, after) == (
        "body changed at line 1: "
        '\'…ated" content="5th Dec 2026 06:46" />\' → '
        '\'…ated" content="5th Dec 2026 06:47" />\' (129 → 129 bytes)'
    )


def test_html_never_shows_the_csrf_token_it_does_not_compare() -> None:
    form = '<form><input type="hidden" name="csrfmiddlewaretoken" value="{}"><b>{}</b></form>'
    before = form.format("s" * 64, "Basket: 1 item").encode()
    after = form.format("t" * 64, "Basket: 2 items").encode()
    reason = compared("text/html", before, after)
    assert "s" * 8 not in reason
    assert reason == (
        "body changed at line 1: "
        '\'…ewaretoken" value=""><b>Basket: 1 item</b></form…\' → '
        '\'…ewaretoken" value=""><b>Basket: 2 items</b></for…\' (155 → 156 bytes)'
    )


def test_html_lines_of_the_same_rows_in_another_order_say_so() -> None:
    before = b"<ul>\n<li>Anna</li>\n<li>Boris</li>\n<li>Clara</li>\n</ul>\n"
    after = b"<ul>\n<li>Anna</li>\n<li>Clara</li>\n<li>Boris</li>\n</ul>\n"
    assert compared("text/html", before, after) == (
        "body changed at line 3: same lines, another order: '<li>Boris</li>' → '<li>Clara</li>'"
        " (55 → 55 bytes)"
    )


def test_html_with_a_line_more_names_the_missing_one() -> None:
    assert compared("text/plain", b"a\nb\n", b"a\nb\nc\n") == (
        "body changed at line 3: (no line) → 'c' (4 → 6 bytes)"
    )


def test_without_the_bodies_only_the_sizes_are_known() -> None:
    one = response_key(200, "text/html", b"<p>a</p>")
    two = response_key(200, "text/html", b"<p>b</p>")
    assert difference(one, two) == "body changed (8 → 8 bytes)"
    assert difference(one, response_key(500, "text/html", b"<p>a</p>")) == "status 200 → 500"
    assert difference(one, response_key(200, "text/html", b"<p>a</p>")) == ""


def test_redirect_target_is_named() -> None:
    one = response_key(302, "text/html", b"", location="/accounts/login/?next=/basket/")
    two = response_key(302, "text/html", b"", location="/basket/")
    assert difference(one, two, b"", b"") == (
        'redirect target changed: "/accounts/login/?next=/basket/" → "/basket/"'
    )


def test_key_keeps_the_location_through_its_dict() -> None:
    key = response_key(302, "text/html", b"", location="/basket/")
    assert ResponseKey.from_dict(key.to_dict()).location == "/basket/"
    older = {k: v for k, v in key.to_dict().items() if k != "location"}
    assert ResponseKey.from_dict(older) == key  # a key without it still compares by digest


def test_a_csp_nonce_is_not_a_change() -> None:
    """django-csp renders a new nonce on every response (base64: `+`, `/`, `=`)."""
    page = '<script nonce="{}" src="/a.js"></script><p>1 result</p>'
    one = response_key(200, "text/html", page.format("q1w2+e3/r4==").encode())
    assert one == response_key(200, "text/html", page.format("Zx9/Yw8+Vu7=").encode())
    other = page.replace("1 result", "2 results")
    assert one != response_key(200, "text/html", other.format("q1w2+e3/r4==").encode())


@pytest.mark.parametrize(
    ("first", "second", "contexts"),
    [
        # a component id and a nonce in one page: both learnt, each with its own context
        (
            b'<a data-djc-id-cA1="">\n<script nonce-x7Yq>',
            b'<a data-djc-id-cB2="">\n<script nonce-Lm4Z>',
            ["data-djc-id-", "nonce-"],
        ),
        # a signed value (django-select2's field id), words and colons: the quoted value whole
        (
            b'<select data-field_id="IjE2Ig:1sAbCd:xYz-9" name="a">',
            b'<select data-field_id="IjE3Ig:1sQrSt:aBc_1" name="a">',
            ['data-field_id="'],
        ),
        (b"<p>a</p>\n", b"<p>a</p>\n<p>b</p>\n", []),  # a line more: not a word's change
        (b"<p>id 1f3a</p>", b"<p>id 9c0e</p>", []),  # no context before the word
        (b"<p>id-1f3a</p>", b"<p>id-1f3a x</p>", []),  # words added
        (b"<p>row-1</p>", b"<p>row-(</p>", []),  # a word became punctuation
    ],
)
def test_learned_volatile(first: bytes, second: bytes, contexts: list[str]) -> None:
    learned = learned_volatile(first, second)
    assert [learned_context(p) for p in learned] == contexts
    if learned:
        assert masked(first, learned) == masked(second, learned)
