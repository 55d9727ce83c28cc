"""The project's detectors and thresholds: the one place the DETECTORS setting is read."""

from __future__ import annotations

from typing import NamedTuple

from perftoolkit.conf import get_settings
from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, IgnoredFinding
from perftoolkit.core.runs.run import Detector
from perftoolkit.middleware.ignoring import finding_filter


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


class Diagnosis(NamedTuple):
    """One request's findings, and those the project's ignore rules silenced."""

    findings: list[Finding]
    ignored: list[IgnoredFinding]


def diagnose(profile: RequestProfile) -> Diagnosis:
    """Every finding of one request from every configured detector, split by the ignore rules."""
    options = detection_options()
    findings: list[Finding] = []
    for detect in detectors():
        findings.extend(detect(profile, options))
    if not findings:
        return Diagnosis([], [])
    return Diagnosis(*finding_filter()(findings))


def analyse(profile: RequestProfile) -> list[Finding]:
    """The findings of one request that no ignore rule silenced."""
    return diagnose(profile).findings
