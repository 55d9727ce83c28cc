"""Headless Chromium for the report tests: Debian's `chromium`, driven by Playwright.

Playwright never downloads a browser here; it launches the system one. Where Chromium is
absent the browser tests skip with the reason; CI sets PERFTOOLKIT_REQUIRE_BROWSER=1, which turns
that skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def executable() -> Path:
    return Path(os.environ.get("PERFTOOLKIT_CHROMIUM", "/usr/bin/chromium"))


def unavailable_reason() -> str | None:
    if not executable().exists():
        return (
            f"Chromium is not installed at {executable()} "
            "(apt-get install chromium chromium-driver, or set PERFTOOLKIT_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def required() -> bool:
    return os.environ.get("PERFTOOLKIT_REQUIRE_BROWSER", "") not in ("", "0")


def skip_or_fail(reason: str) -> None:
    if required():
        pytest.fail(f"{reason} (PERFTOOLKIT_REQUIRE_BROWSER=1 turns this skip into a failure)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (a Playwright `Browser`), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable()), args=ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()
