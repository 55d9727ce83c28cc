"""Diagnosis of one request's queries: the detectors, and the one list of those that run by default.

A detector is a function `(RequestProfile, DetectionOptions) -> list[Finding]`, named in settings
by its dotted path. `load_detectors()` is the one loader of those paths: the middleware, the
record-directory reader, the system checks and the pytest plugin all go through it.
"""

from __future__ import annotations

import importlib
from functools import cache

from perftoolkit.core.runs.run import Detector

DEFAULT_DETECTORS: tuple[str, ...] = (
    "perftoolkit.core.diagnosis.nplusone.detect_nplusone",
    "perftoolkit.core.diagnosis.duplicates.detect_duplicates",
    "perftoolkit.core.diagnosis.writes.detect_writes_on_read",
    "perftoolkit.core.diagnosis.eager.detect_unused_eager_loads",
    "perftoolkit.core.diagnosis.lazy.detect_lazy_relations",
)


class DetectorImportError(ImportError):
    """A dotted detector path that does not lead to a callable."""


@cache
def load_detector(path: str) -> Detector:
    """The function at `path` (`package.module.function`), imported once.

    >>> load_detector("perftoolkit.core.diagnosis.writes.detect_writes_on_read").__name__
    'detect_writes_on_read'
    >>> load_detector("perftoolkit.core.diagnosis.nowhere")
    Traceback (most recent call last):
    ...
    perftoolkit.core.diagnosis.DetectorImportError: Detector 'perftoolkit.core.diagnosis.nowhere' cannot be imported (module 'perftoolkit.core.diagnosis' has no attribute 'nowhere').
    """
    module, _, name = path.rpartition(".")
    try:
        detector = getattr(importlib.import_module(module), name) if module else None
    except (ImportError, AttributeError) as exc:
        raise DetectorImportError(f"Detector {path!r} cannot be imported ({exc}).") from None
    if not callable(detector):
        raise DetectorImportError(
            f"Detector {path!r} is not a function: give the dotted path of a function taking "
            "(profile, options)."
        )
    return detector  # type: ignore[no-any-return]


def load_detectors(paths: tuple[str, ...] = DEFAULT_DETECTORS) -> tuple[Detector, ...]:
    """The functions at `paths`, in order (`DetectorImportError` names the first that fails)."""
    return tuple(load_detector(path) for path in paths)
