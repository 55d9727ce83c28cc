"""`perf_audit`: the project under a real server, Locust in its own processes, and the one
orchestrator `run_audit()` that writes `reports/<label>/` (see `orchestrator.py`).

- `orchestrator.py`: options, plan, run, interruption, exit code;
- `files.py`: recordings + Locust's numbers → the run and its files;
- `locust.py`: Locust as subprocesses (local, or master + workers) and its outputs read back;
- `servers.py`, `processes.py`, `target.py`: gunicorn / uvicorn workers, child processes,
  the Django project under audit.
"""
