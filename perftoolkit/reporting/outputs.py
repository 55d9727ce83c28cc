"""Where a command will write, checked before it does any work.

A report that takes minutes to build must not fail at the last step because `-o` names a
directory, a read-only place or `/proc/...`: every command that writes a file checks its output
paths first, with these two functions, and stops with one clear `ConfigurationError` (exit 1).
The check creates and removes a probe file where the output will go (the atomic writers in
`schema.py` create their temporary file beside the target), or, when that directory does not
exist yet, checks that its nearest existing ancestor is a directory it may create in.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from perftoolkit.exceptions import ConfigurationError


def check_output_file(path: str | os.PathLike[str], option: str, example: str = "") -> Path:
    """`path` can be written as a file (by `option`, named in the error); `example` is the
    file name to suggest inside a directory given instead."""
    try:
        return _check_file(Path(path), option, example)
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a symbolic link loop
        raise ConfigurationError(
            f"{option} {path} cannot be used as a path: {_why(exc)}."
        ) from None


def check_output_dir(path: str | os.PathLike[str], option: str) -> Path:
    """`path` is, or can be created as, a directory files can be written into."""
    try:
        return _check_dir(Path(path), option)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{option} {path} cannot be used as a path: {_why(exc)}."
        ) from None


def _why(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _check_file(target: Path, option: str, example: str) -> Path:
    if target.is_dir():
        inside = f", e.g. {target / example}" if example else ""
        raise ConfigurationError(
            f"{option} {target} is a directory; give the path of the file to write{inside}."
        )
    if target.exists() and not target.is_file():
        raise ConfigurationError(
            f"{option} {target} is not a regular file (a device or a pipe); give the path of a "
            "file to write."
        )
    _check_directory(target.parent, option, target)
    return target


def _check_dir(target: Path, option: str) -> Path:
    if target.exists() and not target.is_dir():
        raise ConfigurationError(
            f"{option} {target} is a file, not a directory; give the directory to write into."
        )
    _check_directory(target, option, target)
    return target


def _check_directory(directory: Path, option: str, target: Path) -> None:
    existing = directory
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    where = f"{option} {target}"
    if existing.exists() and not existing.is_dir():
        raise ConfigurationError(
            f"{where} cannot be written: {existing} is a file, not a directory. Choose another "
            "place."
        )
    if existing != directory:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigurationError(
                f"{where} cannot be written: {existing} does not let this user create "
                f"{directory.relative_to(existing).parts[0]!r} in it. Choose a directory you can "
                "write to."
            )
        return
    try:
        fd, probe = tempfile.mkstemp(prefix=".perftoolkit-probe-", dir=directory)
    except OSError as exc:
        raise ConfigurationError(
            f"{where} cannot be written: {exc.strerror or exc} in {directory}. Choose a directory "
            "you can write to."
        ) from None
    os.close(fd)
    os.unlink(probe)
