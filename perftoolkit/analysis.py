"""Running the configured detectors over a profile: the one place the DETECTORS setting is read."""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from perftoolkit.conf import get_settings
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding
from perftoolkit.core.run import Detector


def detection_options() -> DetectionOptions:
    conf = get_settings()
    return DetectionOptions(
        nplusone_threshold=conf.nplusone_threshold,
        duplicate_threshold=conf.duplicate_threshold,
    )


def detectors() -> list[Detector]:
    return list(_load(get_settings().detectors))


@cache
def _load(paths: tuple[str, ...]) -> tuple[Detector, ...]:
    return tuple(import_string(path) for path in paths)


def analyse(profile: RequestProfile) -> list[Finding]:
    """Every finding of one request, from every configured detector."""
    options = detection_options()
    findings: list[Finding] = []
    for detect in detectors():
        findings.extend(detect(profile, options))
    return findings
