from __future__ import annotations

import pytest
import typer

from perftoolkit.cli import main as cli


def test_main_returns_the_exit_code_a_command_asks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))

    @cli.app.command("gate-failed")
    def gate_failed() -> None:
        raise typer.Exit(code=3)

    assert cli.main(["gate-failed"]) == 3


def test_main_version_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.strip() == "0.1.0"


@pytest.mark.parametrize(
    "argv", [["--help"], ["audit", "--help"], ["budget", "check", "--help"], ["indexes", "--help"]]
)
def test_help_shows_no_type_beside_flags(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")

    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Show this message and exit." in out
    assert "<bool>" not in out
