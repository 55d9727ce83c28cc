"""The project's detectors and thresholds: the one place the DETECTORS setting is read."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from perftoolkit.conf import get_settings, on_settings_reset
from perftoolkit.core.diagnosis import load_detectors
from perftoolkit.core.events import RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, IgnoredFinding
from perftoolkit.core.runs.run import Detector
from perftoolkit.middleware.ignoring import finding_filter
from perftoolkit.middleware.record_lines import BadLine, ShapeCache, split


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


class ShapeDiagnoses:
    """The diagnoses of recent request shapes, for MODE "log".

    With the default detectors, which read only a request's shape (`record_lines.py`: endpoint,
    statements, callsites, relations, the pattern of equal parameters, never a time), two
    requests of one shape have the same findings: each shape is diagnosed once, from its record
    line, and the least recently seen are dropped past a size. Ignore rules and inline comments are
    applied when a shape is first diagnosed.
    """

    def __init__(self, max_shapes: int = 512, max_bytes: int = 4 << 20) -> None:
        self.max_shapes = max_shapes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._shapes = ShapeCache(max_shapes, max_bytes)
        # By `capture.profile.shape_key`, for requests that write no line.
        self._keyed: OrderedDict[tuple[Any, ...], Diagnosis] = OrderedDict()
        on_settings_reset(self.clear)  # DETECTORS, thresholds, ignore rules

    def clear(self) -> None:
        with self._lock:
            self._shapes = ShapeCache(self.max_shapes, self.max_bytes)
            self._keyed = OrderedDict()

    def diagnose_key(
        self, key: tuple[Any, ...], profile: Callable[[], RequestProfile]
    ) -> Diagnosis | None:
        """The diagnosis of a request whose shape `key` gives (`capture.profile.shape_key`: equal
        keys, equal shapes), without building its line; `profile` builds the request's profile
        when the key is new. The least recently seen keys are dropped past `max_shapes`. None
        when a value in the key cannot be hashed (an unhashable parameter in a relation's
        filters): look that request up by its line."""
        keyed = self._keyed
        with self._lock:
            try:
                known = keyed.get(key)
            except TypeError:
                return None
            if known is not None:
                keyed.move_to_end(key)
                return known
        diagnosis = diagnose(profile())
        with self._lock:
            keyed = self._keyed  # (a settings reset may have replaced it meanwhile)
            keyed[key] = diagnosis
            while len(keyed) > self.max_shapes:
                keyed.popitem(last=False)
        return diagnosis

    def diagnose(self, line: dict[str, Any], profile: Callable[[], RequestProfile]) -> Diagnosis:
        """The diagnosis of the request `line` records (which this leaves as its shape: write it
        first); `profile` builds the request's profile when its shape is new."""
        try:
            key = split(line).key
        except BadLine:  # not a line the reader would take: diagnosed on its own
            return diagnose(profile())
        with self._lock:
            known: Diagnosis | None = self._shapes.find(key, line)
        if known is not None:
            return known
        diagnosis = diagnose(profile())
        size = 64 * len(line.get("queries", ())) + sum(
            map(len, line.get("statements", {}).values())
        )
        with self._lock:
            self._shapes.add(key, line, diagnosis, size)
        return diagnosis
