"""The pytest plugin (entry point `perftoolkit`): query budgets for tests."""

from __future__ import annotations
