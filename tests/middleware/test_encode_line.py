"""The recording's line encoder: orjson when installed, json for what orjson refuses."""

from __future__ import annotations

import json

from perftoolkit.middleware.recorder import encode_line, orjson


def test_a_line_reads_back_as_the_same_values() -> None:
    data = {
        "method": "GET",
        "route": "books/<int:pk>/",
        "started_at": 1733339000.123456,
        "duration_ms": 0.1 + 0.2,
        "user": None,
        "queries": [["abc", 1e-05, "default", ["app/views.py", 12, "détail"], None]],
    }
    line = encode_line(data)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert json.loads(line) == data
    assert orjson is not None  # the `fast` extra is part of the development install


def test_what_orjson_refuses_is_encoded_by_json() -> None:
    data = {"route": "bad\udcff", "user": 2**70}
    assert encode_line(data) == b'{"route":"bad\\udcff","user":1180591620717411303424}\n'
