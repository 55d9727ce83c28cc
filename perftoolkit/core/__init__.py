"""Pure analysis: value types and detectors over plain data. Never imports Django, rich,
typer or locust (an import-linter contract enforces it)."""
