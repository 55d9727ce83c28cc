"""Child processes in tests: run the CLI in its own process, and find processes left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CLI = ["-c", "import sys; from perftoolkit.cli.main import main; sys.exit(main())"]


def cli_argv(*args: str) -> list[str]:
    """`perftoolkit <args>` with this interpreter (no dependence on the console script's PATH)."""
    return [sys.executable, *CLI, *args]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_argv(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line or environment contains `marker` (a test's own tmp path)."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in blob:
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, timeout: float = 5.0) -> list[int]:
    """Pids still mentioning `marker` after `timeout` seconds (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    while (left := processes_mentioning(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
