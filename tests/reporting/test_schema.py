from __future__ import annotations

import json
from pathlib import Path

import pytest

from perftoolkit.core.runs.compare import compare
from perftoolkit.exceptions import ReportFormatError
from perftoolkit.reporting.schema import (
    comparison_from_dict,
    dumps,
    read_comparison,
    read_run,
    write_json,
    write_run,
)
from tests.support.runs import after_run, before_run


def test_comparison_round_trip(tmp_path: Path) -> None:
    comparison = compare(before_run(), after_run())
    path = write_json(comparison.to_dict(), tmp_path / "compare.json")

    again = read_comparison(path)

    assert again == comparison
    assert dumps(again.to_dict()) == path.read_text()
    assert json.loads(path.read_text())["schema"] == "perftoolkit.compare/1"


def test_comparison_accepts_a_newer_minor_version() -> None:
    data = compare(before_run(), after_run()).to_dict()

    assert comparison_from_dict({**data, "schema": "perftoolkit.compare/1.3"}).schema == (
        "perftoolkit.compare/1"
    )


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            "perftoolkit.compare/2",
            "compare.json has schema 'perftoolkit.compare/2'; this perftoolkit reads "
            "'perftoolkit.compare/1'. Use the perftoolkit version that wrote it, or rebuild it "
            "from its recordings.",
        ),
        (
            "perftoolkit.audit/1",
            "compare.json has schema 'perftoolkit.audit/1'; this perftoolkit reads "
            "'perftoolkit.compare/1'.",
        ),
        (
            None,
            "compare.json has no 'schema' field naming 'perftoolkit.compare/1', so it is not a "
            "perftoolkit file this version can read. Write one with "
            "`perftoolkit report compare BEFORE AFTER`.",
        ),
    ],
)
def test_read_comparison_refuses_unknown_schema(
    tmp_path: Path, schema: str | None, message: str
) -> None:
    data = compare(before_run(), after_run()).to_dict()
    data["schema"] = schema
    path = tmp_path / "compare.json"
    path.write_text(json.dumps(data))

    with pytest.raises(ReportFormatError) as info:
        read_comparison(path)

    assert str(info.value).replace(str(tmp_path) + "/", "").startswith(message)


def test_read_comparison_malformed_entry(tmp_path: Path) -> None:
    path = tmp_path / "compare.json"
    data = compare(before_run(), after_run()).to_dict()
    del data["before"]["label"]
    path.write_text(json.dumps(data))

    with pytest.raises(ReportFormatError) as info:
        read_comparison(path)

    assert str(info.value) == (
        f"{path}: before.label is missing. Write it again with "
        "`perftoolkit report compare BEFORE AFTER`."
    )


def test_write_files_are_readable_by_others(tmp_path: Path) -> None:
    path = write_run(before_run(), tmp_path / "report.json")

    assert path.stat().st_mode & 0o777 == 0o644
    assert read_run(path) == before_run()
