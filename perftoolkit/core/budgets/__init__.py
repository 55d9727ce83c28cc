"""Budget rules over plain data: limits and the verdict on a run's worst requests (`rules.py`),
and writing budgets from measured values or ratcheting them down (`ratchet.py`)."""
