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


@pytest.mark.parametrize("missing", ["typer", "rich"])
def test_the_command_without_the_cli_extra_says_how_to_install_it(missing: str) -> None:
    import subprocess
    import sys

    # A library the cli extra brings, made absent (an import of it fails as if not installed).
    code = (
        f"import sys; sys.modules[{missing!r}] = None; "
        "from perftoolkit.cli.entry import main; sys.exit(main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: the perftoolkit command needs {missing}, which is not installed. Install the cli "
        "extra: pip install 'perftoolkit[cli]' (pip install 'perftoolkit[cli,sql,audit]' for "
        "every command).\n"
    )


def test_the_console_script_runs_the_cli() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("perftoolkit")
    result = subprocess.run(
        [str(script), "version"], capture_output=True, text=True, timeout=60, check=False
    )

    assert (result.returncode, result.stdout) == (0, "0.1.0\n")
