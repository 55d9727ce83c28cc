"""A response that changed after an edit is replayed again without any edit before the edit is
blamed: if that differs from the baseline too (a time rendered to the minute that moved on, a
file written by an earlier replay), the request is unstable and not judged; if it does not, the
change is the edit's and the reason says where, rows in another order included."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.core.fix.responses import ResponseKey, keyed, normalised_body
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.fix import service as service_module
from perftoolkit.fix.runner import ReplayRequest, ReplayResult
from perftoolkit.fix.service import _Service

ENDPOINT = ("GET", "en-gb/accounts/addresses/")
OTHER = ("GET", "en-gb/offers/")
OWN = ReplayRequest(ENDPOINT, "GET", "/en-gb/accounts/addresses/", user=1)
OFFERS = ReplayRequest(OTHER, "GET", "/en-gb/offers/", user=1)
FINDING = Finding(
    kind="n_plus_one",
    method="GET",
    route="en-gb/accounts/addresses/",
    message="N+1",
    model="address.UserAddress",
    callsite=CallSite("templates/addresses.html", 9, "address.country"),
    origin=CallSite("shop/views.py", 12, "AddressList.get_queryset"),
    fix=Fix("select_related", '.select_related("country")'),
)
HEAD = '<meta name="created" content="5th Dec 2026 06:{}" />\n'
ROWS = "<li>Anna, Paris</li>\n<li>Boris, Oslo</li>\n"
REORDERED = "<li>Boris, Oslo</li>\n<li>Anna, Paris</li>\n"


class Replays:
    """Stands for the child processes: each call answers with the next page of `pages` (a
    page per request, or a pair: what the first and second runs answered), 10 queries without
    an edit and 4 with one, and keeps each normalised body where perf_fix reads it."""

    def __init__(self, bodies: Path, calls: list[dict[ReplayRequest, str | tuple[str, str]]]):
        self.bodies = bodies
        self.calls = calls
        self.overlays: list[int] = []

    def __call__(
        self, requests: Sequence[ReplayRequest], overlay: Mapping[Path, str], **_: Any
    ) -> list[ReplayResult]:
        self.overlays.append(len(overlay))
        pages = self.calls[len(self.overlays) - 1]
        out = []
        for request in requests:
            page = pages[request]
            first, second = (page, page) if isinstance(page, str) else page
            one, two = self.key(first), self.key(second)
            out.append(
                ReplayResult(
                    queries=4 if overlay else 10,
                    key=two,
                    stable=one == two,
                    first=one if one != two else None,
                )
            )
        return out

    def key(self, page: str) -> ResponseKey:
        kind, data = normalised_body("text/html; charset=utf-8", page.encode())
        key = keyed(200, kind, data, len(page.encode()))
        (self.bodies / key.digest).write_bytes(data)
        return key


def verify(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    calls: list[dict[ReplayRequest, str | tuple[str, str]]],
) -> tuple[str, str, Replays, list[str]]:
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    replays = Replays(bodies, calls)
    monkeypatch.setattr(service_module, "replay", replays)
    views = tmp_path / "shop" / "views.py"
    views.parent.mkdir()
    views.write_text("rows = UserAddress.objects.all()\n")
    other = replace(FINDING, route="en-gb/offers/")  # a finding there: offers run shop/views.py
    run = AuditRun("", "", "", True, {}, (), (), (FINDING, other))
    progress: list[str] = []
    service = _Service(
        run,
        tmp_path,
        ({ENDPOINT: [OWN], OTHER: [OFFERS]}, []),
        "shop.settings",
        tmp_path,
        progress.append,
        bodies,
    )
    service._baseline([ENDPOINT, OTHER])
    edited = 'rows = UserAddress.objects.all().select_related("country")\n'
    outcome = service._verify(FINDING, views, edited)
    return outcome.status, outcome.reason, replays, progress


def test_a_time_that_moved_on_between_replays_is_the_clocks_not_the_edits_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code without the edit answers as the edit did: the minute moved on, the edit is kept."""
    status, reason, replays, progress = verify(
        tmp_path,
        monkeypatch,
        [
            {OWN: HEAD.format(46) + ROWS, OFFERS: HEAD.format(46)},  # baseline
            {OWN: HEAD.format(47) + ROWS, OFFERS: HEAD.format(47)},  # with the edit
            {OWN: HEAD.format(47) + ROWS, OFFERS: HEAD.format(47)},  # without it
        ],
    )
    assert replays.overlays == [0, 1, 0]
    assert progress[-1] == (
        f"{FINDING.id}: replaying 2 requests without this fix, whose responses changed"
    )
    assert (status, reason) == ("verified", "")


def test_a_response_that_drifts_by_itself_is_unstable_not_the_edits_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the edit the request answers a third way (a file an earlier replay wrote, a time
    that moved on again): it is not judged, and the finding whose request it is says where."""
    status, reason, replays, _ = verify(
        tmp_path,
        monkeypatch,
        [
            {OWN: HEAD.format(46) + ROWS, OFFERS: HEAD.format(46)},  # baseline
            {OWN: HEAD.format(47) + ROWS, OFFERS: HEAD.format(46)},  # with the edit
            {OWN: HEAD.format(48) + ROWS},  # without it
        ],
    )
    assert replays.overlays == [0, 1, 0]
    assert (status, reason) == (
        "unverifiable",
        "GET /en-gb/accounts/addresses/ as user 1 answers differently to two runs of the same "
        'code (body changed at line 1: \'…ated" content="5th Dec 2026 06:46" />\' → '
        '\'…ated" content="5th Dec 2026 06:48" />\' (95 → 95 bytes)); declare the '
        'changing parts in PERFTOOLKIT["VOLATILE"]',
    )


def test_rows_in_another_order_after_the_edit_are_its_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, reason, replays, _ = verify(
        tmp_path,
        monkeypatch,
        [
            {OWN: HEAD.format(46) + ROWS, OFFERS: HEAD.format(46)},
            {OWN: HEAD.format(46) + REORDERED, OFFERS: HEAD.format(46)},
            {OWN: HEAD.format(46) + ROWS},
        ],
    )
    assert replays.overlays == [0, 1, 0]
    assert (status, reason) == (
        "rejected",
        "reverted: GET /en-gb/accounts/addresses/ as user 1: body changed at line 2: same lines, "
        "another order: '<li>Anna, Paris</li>' → '<li>Boris, Oslo</li>' (95 → 95 bytes)",
    )


def test_another_endpoint_that_drifted_is_not_judged_and_the_edit_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, reason, replays, _ = verify(
        tmp_path,
        monkeypatch,
        [
            {OWN: ROWS, OFFERS: HEAD.format(46)},
            {OWN: ROWS, OFFERS: HEAD.format(47)},
            {OFFERS: HEAD.format(48)},
        ],
    )
    assert replays.overlays == [0, 1, 0]
    assert (status, reason) == ("verified", "")


def test_two_baseline_runs_that_differ_are_not_judged_and_say_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, reason, replays, _ = verify(
        tmp_path,
        monkeypatch,
        [{OWN: ("<p>nonce 1f3a</p>\n", "<p>nonce 9c0e</p>\n"), OFFERS: HEAD.format(46)}],
    )
    assert replays.overlays == [0]  # nothing replayed with the edit
    assert (status, reason) == (
        "unverifiable",
        "GET /en-gb/accounts/addresses/ as user 1 answers differently to two runs of the same "
        "code (body changed at line 1: '<p>nonce 1f3a</p>' → '<p>nonce 9c0e</p>' (18 → 18 "
        'bytes)); declare the changing parts in PERFTOOLKIT["VOLATILE"]',
    )


def component(key: str) -> str:
    return f'<div data-djc-id-c{key}="">\n'


def test_words_that_change_on_every_render_are_learnt_and_the_request_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """django-components gives each render a random id: two runs of the same code differ in that
    word only, so it is left out of the comparisons and the edit is judged on the rest."""
    status, reason, replays, progress = verify(
        tmp_path,
        monkeypatch,
        [
            {OWN: (component("iOkfxU") + ROWS, component("w8Xq9M") + ROWS), OFFERS: ROWS},
            {OWN: component("J02ioZ") + ROWS, OFFERS: ROWS},  # with the edit
        ],
    )
    assert replays.overlays == [0, 1]  # no replay without the edit: nothing else changed
    assert (status, reason) == ("verified", "")
    assert progress[1] == (
        "GET /en-gb/accounts/addresses/ as user 1 answers differently to two runs of the same "
        "code in words that change on every render (data-djc-id-…): compared without them"
    )


def test_an_edit_that_changes_more_than_the_learnt_words_is_still_reverted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, reason, replays, _ = verify(
        tmp_path,
        monkeypatch,
        [
            {OWN: (component("iOkfxU") + ROWS, component("w8Xq9M") + ROWS), OFFERS: ROWS},
            {OWN: component("J02ioZ") + REORDERED, OFFERS: ROWS},  # with the edit
            {OWN: component("Zq81Lm") + ROWS},  # without it
        ],
    )
    assert replays.overlays == [0, 1, 0]
    assert (status, reason) == (
        "rejected",
        "reverted: GET /en-gb/accounts/addresses/ as user 1: body changed at line 2: same lines, "
        "another order: '<li>Anna, Paris</li>' → '<li>Boris, Oslo</li>' (71 → 71 bytes)",
    )


def test_an_edit_that_costs_another_endpoint_a_query_is_reverted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queryset is shared: the fix takes the finding's endpoint from 10 queries to 4, but
    the offers page, which reads nothing it loads, runs one more. Not kept."""
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    pages = Replays(bodies, [])

    def replay(
        requests: Sequence[ReplayRequest], overlay: Mapping[Path, str], **_: Any
    ) -> list[ReplayResult]:
        counts = {OWN: (10, 4), OFFERS: (3, 4)}
        return [
            ReplayResult(queries=counts[r][1 if overlay else 0], key=pages.key(ROWS), stable=True)
            for r in requests
        ]

    monkeypatch.setattr(service_module, "replay", replay)
    views = tmp_path / "shop" / "views.py"
    views.parent.mkdir()
    views.write_text("rows = UserAddress.objects.all()\n")
    other = replace(FINDING, route="en-gb/offers/")
    run = AuditRun("", "", "", True, {}, (), (), (FINDING, other))
    service = _Service(
        run, tmp_path, ({ENDPOINT: [OWN], OTHER: [OFFERS]}, []), "s", tmp_path, print, bodies
    )
    service._baseline([ENDPOINT, OTHER])
    edited = 'rows = UserAddress.objects.all().select_related("country")\n'
    outcome = service._verify(FINDING, views, edited)
    assert (outcome.status, outcome.queries_before, outcome.queries_after) == ("rejected", 10, 4)
    assert outcome.reason == (
        "reverted: GET /en-gb/offers/ as user 1 ran more queries (3 → 4); the queryset serves "
        "it too, and it does not read what the fix loads"
    )
