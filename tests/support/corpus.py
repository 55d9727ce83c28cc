"""Running a corpus view and collecting its findings; locating `# case:` markers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from django.test import Client

from perftoolkit.conf import override_mode
from perftoolkit.core.findings import Finding
from perftoolkit.signals import findings_detected

ROOT = Path(__file__).resolve().parents[2]


@cache
def line_of(relative: str, marker: str) -> int:
    """The line of `relative` (from the repository root) that carries `marker` as a comment."""
    for number, text in enumerate((ROOT / relative).read_text().splitlines(), start=1):
        if text.rstrip().endswith(marker):
            return number
    raise LookupError(f"{marker!r} not in {relative}")


@contextmanager
def collected_findings() -> Iterator[list[Finding]]:
    found: list[Finding] = []

    def receive(sender: Any, profile: Any, findings: list[Finding], **kwargs: Any) -> None:
        found.extend(findings)

    findings_detected.connect(receive, weak=False)
    try:
        yield found
    finally:
        findings_detected.disconnect(receive)


def findings_for(path: str, client: Client | None = None) -> list[Finding]:
    client = client or Client()
    with collected_findings() as found, override_mode("log"):
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return found


def recorded_lines(directory: Path, *paths: str) -> list[dict[str, Any]]:
    """GET each path with PERFTOOLKIT_RECORD_DIR set to `directory` (lines written, none held):
    the record lines, in order."""
    import json
    import os

    from perftoolkit.conf import RECORD_DIR_ENV, reset_settings
    from tests.support.recordings import written_lines

    before = os.environ.get(RECORD_DIR_ENV)
    os.environ[RECORD_DIR_ENV] = str(directory)
    reset_settings()
    try:
        for path in paths:
            assert Client().get(path).status_code == 200
        lines = written_lines(directory)
    finally:
        if before is None:
            del os.environ[RECORD_DIR_ENV]
        else:
            os.environ[RECORD_DIR_ENV] = before
        reset_settings()
    return [json.loads(t) for t in lines]
