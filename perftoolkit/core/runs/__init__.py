"""Runs over plain data: `AuditRun` built from request profiles (`run.py`), Locust's statistics
(`loadstats.py`), the scorecard (`targets.py`), and two runs compared (`compare.py` over the
value types of `comparison.py`)."""
