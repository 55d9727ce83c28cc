"""Refresh the README's report screenshots (`make screenshots`).

Renders the HTML report of the test suite's fixture runs (an audit of the sample project before
and after its fixes, see tests/support/runs.py) and photographs it in headless Chromium.
Not a test: run it when the report's look changes, and commit the PNGs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perftoolkit.reporting.comparing import write_comparison  # noqa: E402
from perftoolkit.reporting.html import write_run_html  # noqa: E402
from tests.support import browser  # noqa: E402
from tests.support.runs import after_run, before_run, judged_before_run  # noqa: E402

SHOTS = {
    # file name: (page, CSS selector to photograph, or None for the top of the page)
    "report.png": ("before/index.html", None),
    "report-findings.png": ("before/index.html", "#findings > .finding:nth-of-type(1)"),
    "compare.png": ("compare/index.html", None),
}
WIDTH, HEIGHT = 1280, 1500


def main() -> int:
    if (reason := browser.unavailable_reason()) is not None:
        sys.stderr.write(f"Cannot take screenshots: {reason}.\n")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_run_html(judged_before_run(), out / "before" / "index.html")
        write_comparison(before_run(), after_run(), out / "compare")
        with browser.chromium() as chromium:
            page = chromium.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            for name, (source, selector) in SHOTS.items():
                page.goto((out / source).as_uri())
                target = ROOT / "docs" / name
                if selector:
                    page.locator(selector).screenshot(path=str(target))
                else:
                    page.screenshot(path=str(target))
                sys.stdout.write(f"{target.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
