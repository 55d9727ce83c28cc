"""action.yml, run as GitHub runs a composite action: each step's shell script with its inputs
substituted, its `env`, and a simulated runner environment (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT,
RUNNER_TEMP, GITHUB_ACTIONS, GITHUB_WORKSPACE)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.reporting.schema import write_run
from tests.support.budget_runs import endpoint, nplusone, run_of

yaml = pytest.importorskip("yaml")
pytestmark = pytest.mark.slow  # runs bash and the perftoolkit CLI as processes
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return data


def run_action(workspace: Path, inputs: dict[str, str], path: str) -> tuple[int, dict[str, Any]]:
    """Run the steps in order, stopping at the first that fails, as the runner does."""
    spec = action()
    values = {name: str(i.get("default", "")) for name, i in spec["inputs"].items()} | inputs
    runner = workspace / "_runner"
    runner.mkdir(exist_ok=True)
    summary, output = runner / "summary.md", runner / "output.txt"
    env = {
        "PATH": path,
        "HOME": str(workspace),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(runner),
    }
    logs, code = [], 0
    for step in spec["runs"]["steps"]:
        assert step["shell"] == "bash"
        script = _EXPRESSION.sub(lambda m: values[m.group(1)], step["run"])
        step_env = {
            k: _EXPRESSION.sub(lambda m: values[m.group(1)], str(v))
            for k, v in step.get("env", {}).items()
        }
        cwd = workspace / _EXPRESSION.sub(
            lambda m: values[m.group(1)], step.get("working-directory", ".")
        )
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env=env | step_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        logs.append(done.stdout + done.stderr)
        code = done.returncode
        if code:
            break
    return code, {
        "log": "".join(logs),
        "summary": summary.read_text() if summary.exists() else "",
        "output": output.read_text() if output.exists() else "",
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "perf-budgets.toml").write_text('[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    write_run(
        run_of(endpoint("corpus/fk/", 6), findings=(nplusone("corpus/fk/"),)),
        tmp_path / "over.json",
    )
    write_run(run_of(endpoint("corpus/fk/", 2)), tmp_path / "ok.json")
    return tmp_path


@pytest.fixture
def fake_pip(tmp_path: Path) -> Path:
    """`pip` as the network edge: records what the install step asks for."""
    bin_dir = tmp_path / "_fakebin"
    bin_dir.mkdir()
    pip = bin_dir / "pip"
    pip.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/pip-calls"\n')
    pip.chmod(0o755)
    return bin_dir


def path_with(*dirs: Path) -> str:
    return os.pathsep.join([*map(str, dirs), str(BIN), "/usr/bin", "/bin"])


def test_action_inputs_and_steps_are_declared() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert set(spec["inputs"]) == {
        "report",
        "budgets",
        "settings",
        "package",
        "install",
        "working-directory",
    }
    assert spec["inputs"]["report"]["required"] is True
    assert spec["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"
    # Inputs reach the scripts through env only, never spliced into the shell text.
    for step in spec["runs"]["steps"]:
        assert "${{" not in step["run"]


def test_action_over_budget_fails_with_summary_and_annotations(
    workspace: Path, fake_pip: Path
) -> None:
    code, out = run_action(workspace, {"report": "over.json"}, path_with(fake_pip))
    assert code == 3
    assert (workspace / "pip-calls").read_text() == (
        "install --disable-pip-version-check perftoolkit[cli,sql]\n"
    )
    assert out["summary"].startswith("## perftoolkit budgets: ❌ 1 of 1 endpoints over budget\n")
    assert "| `GET corpus/fk/` | queries | 4 | 6 | **+2** |" in out["summary"]
    assert re.search(r"^::error file=[^,]+,line=\d+,title=", out["log"], re.MULTILINE), out["log"]
    assert out["output"] == "exit-code=3\n"


def test_action_within_budget_passes(workspace: Path, fake_pip: Path) -> None:
    code, out = run_action(
        workspace, {"report": "ok.json", "install": "false"}, path_with(fake_pip)
    )
    assert code == 0
    assert not (workspace / "pip-calls").exists()
    assert out["summary"].startswith(
        "## perftoolkit budgets: ✅ all 1 budgeted endpoints within budget"
    )
    assert "::error" not in out["log"]
    assert out["output"] == "exit-code=0\n"


def test_action_budgets_input_and_bad_report(workspace: Path, fake_pip: Path) -> None:
    (workspace / "perf-budgets.toml").rename(workspace / "budgets.toml")
    code, out = run_action(
        workspace,
        {"report": "missing.json", "budgets": "budgets.toml", "install": "false"},
        path_with(fake_pip),
    )
    assert code == 1
    assert "missing.json does not exist" in out["log"]
    assert out["summary"] == ""
    assert out["output"] == "exit-code=1\n"
