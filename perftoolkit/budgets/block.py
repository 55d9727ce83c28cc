"""`query_budget()`: fail a block of test code that runs more queries than it may.

The pytest plugin's `query_budget` fixture and `@pytest.mark.query_budget` marker are this
context manager; it works as well in a unittest `TestCase`:

    with query_budget(4):
        self.client.get("/api/courses/")

Unlike a bare count, the failure lists the statements grouped by fingerprint with where each ran,
and the findings (N+1, duplicates, …) with the exact fix. A block whose capture perftoolkit
abandoned (one of its own hooks failed) raises `CaptureFailed`: it never passes on a partial count.
"""

from __future__ import annotations

from perftoolkit.core.runs.run import duplicate_count
from perftoolkit.exceptions import CaptureFailed, ConfigurationError, QueryBudgetExceeded
from perftoolkit.middleware.capture.capture import QueryCapture
from perftoolkit.middleware.capture.profile import build_profile
from perftoolkit.middleware.detectors import analyse
from perftoolkit.reporting.budget_text import block_failure


class query_budget:  # lower case: it reads like a function, `with query_budget(4):`
    """Capture the block's queries on every database alias; raise `QueryBudgetExceeded` after it
    when it ran more than `queries` (or more than `duplicates` exact duplicates), and
    `CaptureFailed` when perftoolkit's own capture failed during it (the count is unknown).

    Nothing is checked when the block itself raises. `with` gives the capture (`.queries`).
    """

    def __init__(
        self,
        queries: int,
        *,
        duplicates: int | None = None,
        what: str = "The query_budget block",
        verbose: bool = False,
    ) -> None:
        _check_limit("queries", queries)
        _check_limit("duplicates", duplicates)
        self.queries = queries
        self.duplicates = duplicates
        self.what = what
        self.verbose = verbose
        self.capture = QueryCapture()

    def __enter__(self) -> QueryCapture:
        return self.capture.__enter__()

    def __exit__(self, *exc_info: object) -> None:
        __tracebackhide__ = True  # the failure points at the test's `with` line
        self.capture.__exit__(*exc_info)
        if exc_info[0] is not None:
            return
        message = check_capture(
            self.capture,
            queries=self.queries,
            duplicates=self.duplicates,
            what=self.what,
            verbose=self.verbose,
        )
        if message is not None:
            raise QueryBudgetExceeded(message)


def _check_limit(name: str, value: object) -> None:
    if value is None and name == "duplicates":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"query_budget({name}=…) takes a whole number of at least 0, not {value!r}."
        )


def check_capture(
    capture: QueryCapture,
    *,
    queries: int,
    duplicates: int | None = None,
    what: str,
    verbose: bool = False,
) -> str | None:
    """The failure message when a finished capture is over budget, else None.

    Raises `CaptureFailed` when the capture was abandoned: its queries are only those recorded
    before the failure, and a budget is never judged on them.
    """
    __tracebackhide__ = True  # raised from the block's exit: the failure points at `with`
    if capture.error is not None:
        raise CaptureFailed(capture_failed_message(capture, what=what, queries=queries))
    count = len(capture.queries)
    if count <= queries and duplicates is None:
        return None
    profile = build_profile(capture, method="", route="")
    repeated = duplicate_count(profile)
    if count <= queries and (duplicates is None or repeated <= duplicates):
        return None
    return block_failure(
        what=what,
        limits={"queries": queries, "duplicates": duplicates},
        measured={"queries": count, "duplicates": repeated},
        queries=profile.queries,
        findings=analyse(profile),
        verbose=verbose,
    )


def capture_failed_message(capture: QueryCapture, *, what: str, queries: int) -> str:
    """Why a block whose capture was abandoned at `capture.error` is not judged, and what to do."""
    place = capture.error
    limit = f"{queries} quer{'y' if queries == 1 else 'ies'}"
    return (
        f"{what} could not be judged against its budget of {limit}: perftoolkit's own capture "
        f"failed in its '{place}' hook during the block and stopped counting, so the number of "
        f"queries the code ran is unknown ({len(capture.queries)} counted before the failure). "
        f"The ERROR log line 'perftoolkit: internal error in {place} at …' (logger 'perftoolkit', "
        "logged once per process for each place, so possibly in an earlier test's output) has "
        "the traceback. The code under test is not at fault: report this to perftoolkit with "
        "that traceback."
    )
