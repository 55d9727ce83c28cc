"""One line per finding, for logs and exception messages."""

from __future__ import annotations

from perftoolkit.core.findings import Finding


def describe(finding: Finding) -> str:
    text = f"{finding.method} {finding.route}: {finding.message}"
    if finding.fix is not None and finding.fix.code not in finding.message:
        text += f" Fix: {finding.fix.code}"
    return text
