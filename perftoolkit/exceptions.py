"""The error hierarchy: every error perftoolkit reports to a user is a PerfToolkitError.

Entry points turn these into one clear message and exit code 1 (bad input) or 3 (a gate failed);
nothing else should reach a user as a traceback.
"""

from __future__ import annotations


class PerfToolkitError(Exception):
    """Base class: the message is one paragraph that names the file or field and the fix."""

    exit_code = 1


class ConfigurationError(PerfToolkitError):
    """The PERFTOOLKIT setting, a budget file or a command's options are wrong."""


class ReportFormatError(PerfToolkitError):
    """A report or recording could not be read: malformed JSON or an unknown schema."""


class LoadTestError(PerfToolkitError):
    """The server or Locust could not be started, or failed while running."""


class QueryBudgetExceeded(PerfToolkitError):
    """Raised by the middleware in `raise` mode and by the pytest fixture when a budget is broken."""

    exit_code = 3


class CaptureFailed(PerfToolkitError):
    """A `query_budget` block (fixture, marker) whose capture perftoolkit abandoned after one of
    its own hooks failed: the block's query count is unknown, so its budget is not judged."""


class NPlusOneDetected(PerfToolkitError):
    """Raised by the middleware in `raise` mode when a request shows an N+1 or another finding."""

    exit_code = 3


class RegressionDetected(PerfToolkitError):
    """A comparison run with `--fail-on regression` found an endpoint that got worse."""

    exit_code = 3


class UnmeasuredRequests(PerfToolkitError):
    """A run holds requests whose capture perftoolkit abandoned: budgets cannot be judged or
    written from it as if it were whole."""
