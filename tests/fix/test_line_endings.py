"""perf_fix leaves a file's bytes as they are but for its edits: "\\r\\n" line endings (on the
lines an edit adds too), a UTF-8 byte order mark, a last line without a newline; and its patch
applies to the file as it is on disk.

`run_fix` runs as `manage.py perf_fix` runs it, but for the replay: each request's query count is
given (fewer once its finding's fix is in the edited text) where the command measures it in a
child process (tests/fix/test_sample.py runs that, slow).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, Fix
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.fix import service
from perftoolkit.fix.options import FixOptions
from perftoolkit.fix.replay import _OverlayLoader
from perftoolkit.fix.runner import ReplayRequest, ReplayResult
from perftoolkit.fix.service import run_fix, unified_diff
from perftoolkit.reporting.schema import write_run

FILE = "library/views.py"
SOURCE = '''\
"""Book pages."""
from tests.corpus.models import Book


def books():
    return (
        Book.objects.filter(title__startswith="A")
        .order_by("title")  # by title
    )


def shelf():
    return Book.objects.prefetch_related(
        "tags",
        "reviews",
    ).filter(pk__gt=0)
'''
# Both fixes kept: an import extended, an import and a call on lines of their own, an argument
# on a line of its own in a call written one argument per line.
EDITED = '''\
"""Book pages."""
from tests.corpus.models import Book, Review
from django.db.models import Prefetch


def books():
    return (
        Book.objects.filter(title__startswith="A")
        .order_by("title")  # by title
        .prefetch_related(Prefetch("reviews", queryset=Review.objects.order_by("id")))
    )


def shelf():
    return Book.objects.prefetch_related(
        "tags",
        "reviews",
        "loans",
    ).filter(pk__gt=0)
'''
BOOKS = Finding(
    kind="n_plus_one",
    method="GET",
    route="books/",
    message="N+1",
    model="corpus.Book",
    path="reviews",
    origin=CallSite(FILE, 7, "books"),
    fix=Fix(
        "prefetch_related",
        '.prefetch_related(Prefetch("reviews", queryset=Review.objects.order_by("id")))',
    ),
)
SHELF = Finding(
    kind="n_plus_one",
    method="GET",
    route="shelf/",
    message="N+1",
    model="corpus.Book",
    path="loans",
    origin=CallSite(FILE, 13, "shelf"),
    fix=Fix("prefetch_related", '.prefetch_related("loans")'),
)
REQUESTS = {
    ("GET", "books/"): [ReplayRequest(("GET", "books/"), "GET", "/books/")],
    ("GET", "shelf/"): [ReplayRequest(("GET", "shelf/"), "GET", "/shelf/")],
}
# What each endpoint's fix writes, by which the given replay tells an edited text.
WRITTEN = {("GET", "books/"): 'Prefetch("reviews"', ("GET", "shelf/"): '"loans",'}

FILES = [
    pytest.param("\n", "", True, id="lf"),
    pytest.param("\r\n", "", True, id="crlf"),
    pytest.param("\r\n", "\ufeff", True, id="crlf-bom"),
    pytest.param("\n", "\ufeff", True, id="lf-bom"),
    pytest.param("\r\n", "", False, id="crlf-no-last-newline"),
]


def spelled(text: str, newline: str, bom: str, last_newline: bool = True) -> bytes:
    text = bom + text.replace("\n", newline)
    return (text if last_newline else text.removesuffix(newline)).encode()


def replay(
    requests: Sequence[ReplayRequest], overlay: Mapping[Path, str], **_: Any
) -> list[ReplayResult]:
    edited = "".join(overlay.values())
    return [
        ReplayResult(queries=2 if WRITTEN[r.endpoint] in edited else 12, key=None, stable=True)
        for r in requests
    ]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    settings.PERFTOOLKIT = {"MODE": "off", "PROJECT_ROOT": str(tmp_path / "project")}
    (tmp_path / "project" / "library").mkdir(parents=True)
    run = AuditRun(
        label="line endings",
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:01:00+00:00",
        complete=True,
        environment={},
        endpoints=(),
        queries=(),
        findings=(BOOKS, SHELF),
        record_dir=str(tmp_path / "record"),
    )
    write_run(run, tmp_path / "report.json")
    monkeypatch.setattr(service, "_requests", lambda *_: (REQUESTS, []))
    monkeypatch.setattr(service, "replay", replay)
    return tmp_path / "project"


def fix(project: Path, *, apply: bool) -> service.FixResult:
    options = FixOptions(
        report=project.parent / "report.json", apply=apply, patch=project.parent / "fixes.patch"
    )
    result = run_fix(options, settings_module="tests.settings", project_dir=project)
    assert [o.status for o in result.outcomes] == ["verified", "verified"]
    return result


@pytest.mark.parametrize(("newline", "bom", "end"), FILES)
def test_apply_keeps_the_files_line_endings_and_byte_order_mark(
    project: Path, newline: str, bom: str, end: bool
) -> None:
    path = project / FILE
    path.write_bytes(spelled(SOURCE, newline, bom, end))
    fix(project, apply=True)
    assert path.read_bytes() == spelled(EDITED, newline, bom, end)


def test_crlf_patch_keeps_crlf_on_its_lines() -> None:
    before = 'a = 1\r\nb = ("x",\r\n     "y")\r\n'
    after = 'a = 1\r\nb = ("x",\r\n     "y",\r\n     "z")\r\n'
    assert unified_diff(before, after, "m.py") == (
        "--- a/m.py\n"
        "+++ b/m.py\n"
        "@@ -1,3 +1,4 @@\n"
        " a = 1\r\n"
        ' b = ("x",\r\n'
        '-     "y")\r\n'
        '+     "y",\r\n'
        '+     "z")\r\n'
    )


def test_patch_marks_a_last_line_without_newline() -> None:
    assert unified_diff("a\r\nb", "a\r\nc", "m.py") == (
        "--- a/m.py\n"
        "+++ b/m.py\n"
        "@@ -1,2 +1,2 @@\n"
        " a\r\n"
        "-b\n"
        "\\ No newline at end of file\n"
        "+c\n"
        "\\ No newline at end of file\n"
    )


def test_patch_cuts_lines_at_newlines_only() -> None:
    # A form feed or a lone "\r" inside a line is the line's own text to patch and git.
    assert unified_diff("a\x0cb\rc\n", "a\x0cb\rd\n", "m.py") == (
        "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\x0cb\rc\n+a\x0cb\rd\n"
    )


@pytest.mark.parametrize(("newline", "bom", "end"), FILES)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["git", "-c", "core.autocrlf=false", "apply"], id="git-apply"),
        pytest.param(["patch", "-p1", "--quiet", "-i"], id="patch"),
    ],
)
def test_patch_applies_to_the_file_on_disk(
    project: Path, newline: str, bom: str, end: bool, command: list[str]
) -> None:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    path = project / FILE
    path.write_bytes(spelled(SOURCE, newline, bom, end))
    result = fix(project, apply=False)
    assert result.written == [project.parent / "fixes.patch"]
    assert path.read_bytes() == spelled(SOURCE, newline, bom, end)  # the patch only
    done = subprocess.run(
        [*command, str(project.parent / "fixes.patch")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert path.read_bytes() == spelled(EDITED, newline, bom, end)


def test_replay_compiles_the_edited_text_with_the_files_line_numbers(tmp_path: Path) -> None:
    text = spelled(EDITED, "\r\n", "").decode()
    code = _OverlayLoader("library.views", str(tmp_path / FILE), text).get_code("library.views")
    lines = {c.co_name: c.co_firstlineno for c in code.co_consts if hasattr(c, "co_name")}
    assert lines == {"books": 6, "shelf": 14}


def test_apply_keeps_the_files_mode(project: Path) -> None:
    path = project / FILE
    path.write_text(SOURCE)
    path.chmod(0o664)
    fix(project, apply=True)
    assert (path.read_text(), path.stat().st_mode & 0o777) == (EDITED, 0o664)


def test_a_file_that_is_not_utf8_is_unplaceable_and_the_run_goes_on(project: Path) -> None:
    path = project / FILE
    latin = SOURCE.replace('"""Book pages."""', '"""Livres à lire."""')
    path.write_bytes(b"# -*- coding: latin-1 -*-\n" + latin.encode("latin-1"))
    options = FixOptions(report=project.parent / "report.json", apply=True)
    result = run_fix(options, settings_module="tests.settings", project_dir=project)
    byte = len("# -*- coding: latin-1 -*-\n") + len('"""Livres ')
    assert [(o.status, o.reason) for o in result.outcomes] == [
        ("unplaceable", f"{FILE} is not UTF-8 (byte {byte}); perf_fix edits UTF-8 source only")
    ] * 2
    assert path.read_bytes() == b"# -*- coding: latin-1 -*-\n" + latin.encode("latin-1")
