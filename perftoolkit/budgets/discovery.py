"""Where the budget file is: `--budgets`, the setting, pyproject.toml, the working directory,
settings.BASE_DIR."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perftoolkit.exceptions import ConfigurationError

BUDGET_FILE = "perf-budgets.toml"


def display_path(path: Path) -> str:
    """The path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def search_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Where the file is looked for: the working directory, `extra`, then settings.BASE_DIR."""
    dirs = [Path.cwd(), *extra]
    base_dir = _setting("BASE_DIR")
    if base_dir:
        dirs.append(Path(os.fspath(base_dir)))
    unique: list[Path] = []
    for directory in dirs:
        if directory.resolve() not in [d.resolve() for d in unique]:
            unique.append(directory)
    return unique


def find_budget_file(
    explicit: str | os.PathLike[str] | None = None,
    *,
    dirs: Sequence[Path] | None = None,
    must_exist: bool = True,
) -> Path:
    """The budget file to use.

    `explicit` (`--budgets PATH`) wins; then `PERFTOOLKIT["BUDGETS"]`; then, in each of `dirs`
    (default `search_dirs()`), a pyproject.toml whose `[tool.perftoolkit] budgets` points to it,
    else `perf-budgets.toml`. With `must_exist=False` (recording a new file) the first candidate
    is returned even when it does not exist yet.
    """
    if explicit is not None:
        return _existing(Path(explicit), "--budgets", must_exist)
    configured = _perftoolkit_setting()
    if configured:
        return _existing(Path(configured), 'PERFTOOLKIT["BUDGETS"]', must_exist)
    searched = list(dirs) if dirs is not None else search_dirs()
    for directory in searched:
        pointer = _pyproject_pointer(directory / "pyproject.toml")
        if pointer is not None:
            return _existing(pointer, f"{display_path(directory / 'pyproject.toml')}", must_exist)
        candidate = directory / BUDGET_FILE
        if candidate.is_file():
            return candidate
    if not must_exist and searched:
        return searched[0] / BUDGET_FILE
    places = ", ".join(_place(d) for d in searched) or "nowhere: no directory to search"
    raise ConfigurationError(
        f"No {BUDGET_FILE} found (looked in {places}). Create one from a report with "
        "`perftoolkit budget record --report report.json`, or name it with --budgets PATH "
        '(or [tool.perftoolkit] budgets = "path" in pyproject.toml).'
    )


def _place(directory: Path) -> str:
    shown = display_path(directory)
    return f"the working directory ({directory})" if shown == "." else shown


def _existing(path: Path, origin: str, must_exist: bool) -> Path:
    if path.is_dir():
        raise ConfigurationError(
            f"{path} (from {origin}) is a directory; give the budget file itself, e.g. {path / BUDGET_FILE}."
        )
    if must_exist and not path.exists():
        raise ConfigurationError(
            f"{path} (from {origin}) does not exist. Create it with "
            f"`perftoolkit budget record --report report.json --budgets {path}`."
        )
    return path


def _pyproject_pointer(pyproject: Path) -> Path | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # not ours to judge; the budget search goes on
    value = data.get("tool", {}).get("perftoolkit", {}).get("budgets")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{display_path(pyproject)}: [tool.perftoolkit] budgets must be a path string, "
            f'e.g. budgets = "{BUDGET_FILE}", not {value!r}.'
        )
    return pyproject.parent / value


def _setting(name: str) -> Any:
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return None
    return getattr(settings, name, None) if settings.configured else None


def _perftoolkit_setting() -> str | None:
    value = _setting("PERFTOOLKIT")
    budgets = value.get("BUDGETS") if isinstance(value, dict) else None
    return os.fspath(budgets) if budgets else None
