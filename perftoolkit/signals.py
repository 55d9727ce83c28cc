"""Public signals. Receivers run after the response has been produced; keep them cheap."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once per analysed request with `profile` (core.events.RequestProfile) and
# `findings` (list[core.findings.Finding]); only when at least one finding exists.
findings_detected = Signal()
