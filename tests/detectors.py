"""A detector that fails, for the failure-safety tests."""

from __future__ import annotations

from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding


def broken(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    raise RuntimeError("detector bug")
