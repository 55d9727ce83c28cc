"""The project's detectors and thresholds: the one place the DETECTORS setting is read."""

from __future__ import annotations

from perftoolkit.conf import get_settings
from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding
from perftoolkit.core.runs.run import Detector


def detection_options() -> DetectionOptions:
    conf = get_settings()
    return DetectionOptions(
        nplusone_threshold=conf.nplusone_threshold,
        duplicate_threshold=conf.duplicate_threshold,
    )


def detectors() -> tuple[Detector, ...]:
    """The configured detectors (`DetectorImportError` for a path the system checks flag)."""
    return load_detectors(get_settings().detectors)


def detection_setup() -> tuple[tuple[Detector, ...], DetectionOptions]:
    """The project's detectors and thresholds, or the defaults when Django has no settings (the
    `perftoolkit` CLI run outside a project)."""
    from django.conf import settings

    if settings.configured:
        return detectors(), detection_options()
    return load_detectors(), DetectionOptions()


def analyse(profile: RequestProfile) -> list[Finding]:
    """Every finding of one request, from every configured detector."""
    options = detection_options()
    findings: list[Finding] = []
    for detect in detectors():
        findings.extend(detect(profile, options))
    return findings
