"""A project's Python file as perf_fix reads and writes it: byte for byte but for its edits.

The text keeps the file's line endings ("\\r\\n" stays "\\r\\n": libcst writes the lines an edit
adds with the ending it finds in the module) and leaves out a UTF-8 byte order mark, which `ast`
refuses and libcst drops in front of a module's text; `file_text` puts it back for the file and
the patch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Source:
    text: str  # without the byte order mark, line endings as in the file
    bom: bool = False

    def file_text(self, text: str) -> str:
        """`text` (this file's text or an edit of it) as the file spells it."""
        return BOM + text if self.bom else text


def read_source(path: Path) -> Source:
    """The file's text decoded as UTF-8 without translating its line endings."""
    text = path.read_bytes().decode("utf-8")
    if text.startswith(BOM):
        return Source(text[len(BOM) :], bom=True)
    return Source(text)
