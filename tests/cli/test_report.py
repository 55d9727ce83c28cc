from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from perftoolkit.cli.main import main
from perftoolkit.conf import reset_settings
from tests.corpus.data import seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed()
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    Client().get("/corpus/fk/")
    Client().get("/corpus/count/")
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR")
    reset_settings()
    return directory


def test_cli_report_build_and_show(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    assert main(["report", "build", str(recorded), "-o", str(out), "--label", "corpus"]) == 0
    assert capsys.readouterr().out == f"{out}: 2 endpoints, 2 requests, 2 findings\n"
    assert json.loads(out.read_text())["label"] == "corpus"
    assert main(["report", "show", str(out), "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## perftoolkit report: corpus\n")
    assert '`.select_related("author")`' in markdown
    assert main(["report", "show", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "perftoolkit.audit/1"
    assert main(["report", "show", str(out)]) == 0
    assert 'fix: .annotate(reviews_count=Count("reviews"))' in capsys.readouterr().out


def test_cli_report_show_keeps_routes_and_fixes_whole_at_80_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    directory = tmp_path / "rec"
    monkeypatch.setenv("PERFTOOLKIT_RECORD_DIR", str(directory))
    reset_settings()
    Client().get("/corpus/drf/string-related/")
    Client().get("/corpus/drf/lookup-exists/")
    monkeypatch.delenv("PERFTOOLKIT_RECORD_DIR")
    reset_settings()
    out = tmp_path / "report.json"
    assert main(["report", "build", str(directory), "-o", str(out)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["report", "show", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("───")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("n_plus_one"))
    assert all(len(line) <= 80 for line in lines[:end])
    width = lines[start - 2].index("req")  # the route column ends where the next one starts
    pieces = [line[:width].strip() for line in lines[start:end]]
    assert "".join(pieces).replace(" ", "") == (
        "GETcorpus/drf/lookup-exists/GETcorpus/drf/string-related/"
    )
    assert min(len(p) for p in pieces) >= 20  # never folded a few letters a line
    fix = (
        '.annotate(has_approved=Exists(Review.objects.filter(book=OuterRef("pk"), approved=True)))'
    )
    assert f"  fix: {fix}\n" in text


def test_cli_bad_input_is_one_message_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "build", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {tmp_path / 'nope'} does not exist.")
    assert "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other/1"}')
    assert main(["report", "show", str(bad)]) == 1
    assert "has schema 'other/1'" in capsys.readouterr().err


def test_cli_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "build"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_perf_report_command_build(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    call_command("perf_report", "build", str(recorded), "-o", str(out))
    assert json.loads(out.read_text())["label"] == "rec"
    capsys.readouterr()
    call_command("perf_report", "show", str(out), "--format", "markdown")
    assert capsys.readouterr().out.startswith("## perftoolkit report: rec")
    call_command(
        "perf_report", "show", str(out)
    )  # the terminal tables, as `perftoolkit report show`
    terminal = capsys.readouterr().out
    assert terminal.startswith("perftoolkit · rec")
    assert terminal == _cli_output(["report", "show", str(out)], capsys)
    call_command("perf_report", "html", str(out))
    assert capsys.readouterr().out == f"{tmp_path / 'index.html'}\n"
    assert (tmp_path / "index.html").read_text().startswith("<!DOCTYPE html>")


def _cli_output(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_perf_report_command_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist") as info:
        call_command("perf_report", "build", str(tmp_path / "nope"))
    assert info.value.returncode == 1
