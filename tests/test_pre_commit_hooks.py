"""`.pre-commit-hooks.yaml`: the manifest read by pre-commit's own loader, each hook's entry run
as pre-commit runs it (entry + args + the matching files), and `pre-commit try-repo` end to end."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.reporting.schema import write_run
from tests.support.budget_runs import endpoint, run_of

clientlib = pytest.importorskip("pre_commit.clientlib")
pytestmark = pytest.mark.slow  # runs the hooks as processes
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def hooks() -> dict[str, dict[str, Any]]:
    return {h["id"]: h for h in clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}


def run_hook(hook_id: str, cwd: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    hook = hooks()[hook_id]
    matching = [f for f in files if re.search(hook["files"], f)]
    command = [*shlex.split(hook["entry"]), *hook["args"]]
    if hook["pass_filenames"]:
        command += matching
    env = os.environ | {"PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_manifest_is_valid_for_pre_commit() -> None:
    found = hooks()
    assert sorted(found) == ["perftoolkit-budgets-check", "perftoolkit-budgets-lint"]
    assert found["perftoolkit-budgets-lint"]["language"] == "python"
    assert found["perftoolkit-budgets-check"]["pass_filenames"] is False
    assert re.search(found["perftoolkit-budgets-lint"]["files"], "app/perf-budgets.toml")
    assert not re.search(found["perftoolkit-budgets-lint"]["files"], "perf-budgets.toml.bak")


def test_lint_hook_passes_and_fails_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "perf-budgets.toml").write_text('[endpoints."GET api/x/"]\nqueries = 4\n')
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "perf-budgets.toml").write_text('[endpoints."GET api/x/"]\nqueries = "many"\n')
    good = run_hook("perftoolkit-budgets-lint", tmp_path, ["perf-budgets.toml", "README.md"])
    assert (good.returncode, good.stdout) == (0, "perf-budgets.toml: 1 endpoints, readable\n")
    bad = run_hook(
        "perftoolkit-budgets-lint", tmp_path, ["perf-budgets.toml", "svc/perf-budgets.toml"]
    )
    assert bad.returncode == 1
    assert bad.stderr == (
        "svc/perf-budgets.toml:2: queries must be a whole number of at least 0 (e.g. queries = 4), "
        "not the string 'many'.\n"
    )


def test_check_hook_judges_the_committed_report(tmp_path: Path) -> None:
    (tmp_path / "perf-budgets.toml").write_text('[endpoints."GET corpus/fk/"]\nqueries = 4\n')
    write_run(run_of(endpoint("corpus/fk/", 3)), tmp_path / "report.json")
    ok = run_hook("perftoolkit-budgets-check", tmp_path, ["perf-budgets.toml"])
    assert (ok.returncode, ok.stdout) == (
        0,
        "All 1 budgeted endpoint within budget (perf-budgets.toml)\n",
    )
    write_run(run_of(endpoint("corpus/fk/", 9)), tmp_path / "report.json")
    over = run_hook("perftoolkit-budgets-check", tmp_path, ["report.json"])
    assert over.returncode == 3
    assert "GET corpus/fk/" in over.stdout
    assert "::error" not in over.stdout


def test_pre_commit_try_repo_installs_and_runs_the_lint_hook(tmp_path: Path) -> None:
    """pre-commit builds the hook's environment from this repository (PyPI for its dependencies)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "perf-budgets.toml").write_text('[endpoints."GET api/x/"]\nqueries = 4\n')
    env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path / "cache")}
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    done = subprocess.run(
        [str(BIN / "pre-commit"), "try-repo", str(ROOT), "perftoolkit-budgets-lint", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode and "Could not find a version" in done.stdout + done.stderr:
        pytest.skip("no package index reachable to build the hook's environment")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"perf-budgets\.toml reads \(perftoolkit\)\.+Passed", done.stdout)
