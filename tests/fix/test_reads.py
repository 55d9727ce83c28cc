"""The per-row read an annotation fix replaces, rewritten to read the annotation when the row
has it (and to count as before when it does not)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perftoolkit.fix.locate import Unplaceable
from perftoolkit.fix.reads import annotation_read, rewrite_read


@pytest.mark.parametrize(
    ("code", "exists", "expected"),
    [
        ('.annotate(student_count=Count("enrollments"))', False, ("student_count", "count")),
        (
            '.annotate(has_items=Exists(Item.objects.filter(order=OuterRef("pk"))))',
            True,
            ("has_items", "exists"),
        ),
        ('.annotate(has_tags_count=Count("tags"))', True, ("has_tags_count", "count>0")),
        ('.annotate(total=Sum("items__price"))', False, None),
        ('.select_related("author")', False, None),
        ('.annotate(a=Count("x"), b=Count("y"))', False, None),
        # a model's Meta.ordering is not applied to a grouped query: the fix keeps the order
        (
            '.annotate(usage_count=Count("usage")).order_by("title")',
            False,
            ("usage_count", "count"),
        ),
        ('.annotate(usage_count=Count("usage")).filter(usage_count=1)', False, None),
    ],
)
def test_the_annotation_a_fix_adds_and_how_a_row_reads_it(
    code: str, exists: bool, expected: tuple[str, str] | None
) -> None:
    assert annotation_read(code, exists=exists) == expected


def test_a_count_of_a_rows_relation_reads_the_annotation_when_the_row_has_it() -> None:
    source = textwrap.dedent("""\
        class CourseSerializer:
            def get_students(self, course):
                return course.enrollments.filter(status="active").count()  # active only
        """)
    assert rewrite_read(source, 3, "enrollments", "student_count", "count") == textwrap.dedent("""\
        class CourseSerializer:
            def get_students(self, course):
                return (course.student_count if hasattr(course, "student_count") else course.enrollments.filter(status="active").count())  # active only
        """)


def test_an_existence_test_on_a_model_method_reads_the_annotation() -> None:
    source = textwrap.dedent("""\
        class Ticket:
            @property
            def blocked(self):
                if self.dependencies.exists():
                    return True
                return False
        """)
    assert rewrite_read(source, 4, "dependencies", "has_dependencies", "exists").splitlines()[
        3
    ] == (
        '        if (self.has_dependencies if hasattr(self, "has_dependencies") else '
        "self.dependencies.exists()):"
    )
    counted = rewrite_read(source, 4, "dependencies", "has_dependencies_count", "count>0")
    assert counted.splitlines()[3] == (
        '        if (self.has_dependencies_count > 0 if hasattr(self, "has_dependencies_count") '
        "else self.dependencies.exists()):"
    )


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("n = len(course.enrollments.all())\n", "not one .count() or .exists() of enrollments"),
        (
            "n = course.enrollments.count() + course.enrollments.filter(x=1).count()\n",
            "not one .count() or .exists() of enrollments",
        ),
        ("n = get(pk).enrollments.count()\n", "not named plainly (get(pk))"),
    ],
)
def test_a_read_that_is_not_one_plain_count_is_left_alone(source: str, reason: str) -> None:
    with pytest.raises(Unplaceable, match=reason.replace("(", r"\(").replace(")", r"\)")):
        rewrite_read(source, 1, "enrollments", "student_count", "count")


def test_an_annotation_nothing_reads_is_kept_once_the_per_row_line_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The origin's edit alone runs as many queries (the model method still counts): perf_fix
    rewrites that method's count to read the annotation, replays both, and keeps both."""
    from collections.abc import Mapping, Sequence
    from typing import Any

    from perftoolkit.core.events import CallSite
    from perftoolkit.core.findings import Finding, Fix
    from perftoolkit.core.fix.responses import keyed
    from perftoolkit.core.runs.run import AuditRun
    from perftoolkit.fix import service as service_module
    from perftoolkit.fix.runner import ReplayRequest, ReplayResult
    from perftoolkit.fix.service import _Service

    (tmp_path / "shop").mkdir()
    views = tmp_path / "shop" / "views.py"
    views.write_text("def books(request):\n    return Book.objects.all()\n")
    models = tmp_path / "shop" / "models.py"
    models.write_text(
        "class Book:\n    def review_total(self):\n        return self.reviews.count()\n"
    )
    finding = Finding(
        kind="n_plus_one",
        method="GET",
        route="books/",
        message="N+1: Book.reviews.count() runs once per Book row",
        model="shop.Book",
        field="reviews",
        path="reviews",
        callsite=CallSite("shop/models.py", 3, "review_total"),
        origin=CallSite("shop/views.py", 2, "books"),
        fix=Fix("annotate", '.annotate(reviews_count=Count("reviews"))'),
    )
    request = ReplayRequest(("GET", "books/"), "GET", "/books/")
    seen: list[dict[str, str]] = []

    def replay(
        requests: Sequence[ReplayRequest], overlay: Mapping[Path, str], **_: Any
    ) -> list[ReplayResult]:
        seen.append({p.name: t for p, t in overlay.items()})
        reads = "hasattr(self" in overlay.get(models, "")
        key = keyed(200, "text", b"3 reviews", 9)
        return [ReplayResult(queries=4 if reads else 10, key=key, stable=True) for _ in requests]

    monkeypatch.setattr(service_module, "replay", replay)
    run = AuditRun("", "", "", True, {}, (), (), (finding,))
    service = _Service(
        run,
        tmp_path,
        ({request.endpoint: [request]}, []),
        "shop.settings",
        tmp_path,
        lambda _: None,
        tmp_path,
    )
    service._baseline([request.endpoint])
    outcome = service._attempt(finding, views)
    assert (outcome.status, outcome.reason, outcome.queries_before, outcome.queries_after) == (
        "verified",
        "the per-row read at shop/models.py:3 reads the annotation",
        10,
        4,
    )
    assert [sorted(s) for s in seen] == [[], ["views.py"], ["models.py", "views.py"]]
    assert service.state.current[models].splitlines()[2] == (
        '        return (self.reviews_count if hasattr(self, "reviews_count") else '
        "self.reviews.count())"
    )
    assert "annotate(reviews_count=Count(" in service.state.current[views]
