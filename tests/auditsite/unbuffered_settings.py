"""The audit site recording each line as its request ends (RECORD_BUFFER 0): what a worker killed
mid-load or a record directory removed while serving leaves is line by line."""

from __future__ import annotations

from tests.auditsite.settings import *  # noqa: F403

PERFTOOLKIT = {"RECORD_BUFFER": 0}
