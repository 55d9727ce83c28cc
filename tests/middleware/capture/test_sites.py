"""Where a view builds the queryset of its rows, chosen among get_queryset's returns by what the
evaluated queryset eager-loaded."""

from __future__ import annotations

import linecache
from typing import Any

from django.db.models import Prefetch
from rest_framework import generics

from perftoolkit.middleware.capture.sites import view_queryset_site
from tests.corpus.models import Book, Enrollment
from tests.support.corpus import line_of

FILE = "tests/middleware/capture/test_sites.py"


class Base(generics.ListAPIView[Enrollment]):
    queryset = Enrollment.objects.order_by("id")  # site: base


class Branches(Base):
    def get_queryset(self) -> Any:
        if self.request.user.is_staff:
            return super().get_queryset()  # site: super
        if self.request.GET.get("all"):
            return self.queryset.all()
        eager = Enrollment.objects.select_related("student", "student__user")
        return eager.prefetch_related("book__tags", Prefetch("book", to_attr="the_book"))


class Unknown(Base):
    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.request.user.is_staff:
            return queryset
        return queryset.select_related("student")  # site: unknown last


class Extends(Base):
    def get_queryset(self) -> Any:
        if self.request.user.is_staff:
            return super().get_queryset().prefetch_related("book")  # site: extends
        return Enrollment.objects.all()  # site: extends last


class ModelOnly(generics.ListAPIView[Book]):
    model = Book  # site: model


class Scoped(generics.ListAPIView[Book]):
    """The class keeps a manager (a queryset built at import time would miss the request's
    scope); get_queryset assigns `self.queryset` and returns it, or super()'s copy of it."""

    queryset = Book.objects  # site: manager

    def get_queryset(self) -> Any:
        if self.kwargs.get("pk"):
            self.queryset = self.queryset.filter(title__gt="").prefetch_related(
                "tags"
            )  # site: detail
            return super().get_queryset()
        self.queryset = self.queryset.filter(title__gt="")
        self.queryset = self.queryset.select_related("author")  # site: list
        return self.queryset


def at(marker: str) -> str:
    return f"{FILE}:{line_of(FILE, f'# site: {marker}')}"


class Literal(Base):
    def get_queryset(self) -> Any:
        if self.request.user.is_staff:
            return super().get_queryset()
        return Enrollment.objects.select_related("student", "student__user").prefetch_related(
            "book__tags", Prefetch("book", to_attr="the_book")
        )  # site: literal


def test_view_queryset_site_is_the_last_return_by_default() -> None:
    site = view_queryset_site(Literal)
    assert site is not None
    assert (site.line, site.function) == (
        line_of(FILE, "# site: literal") - 2,
        "Literal.get_queryset",
    )


def test_view_queryset_site_follows_the_eager_loads_that_ran() -> None:
    assert str(view_queryset_site(Literal, frozenset())) == at("base")
    eager = frozenset({("select", "student__user"), ("prefetch", "book__tags")})
    assert view_queryset_site(Literal, eager) == view_queryset_site(Literal)
    # Two returns stand for the class's queryset and one is not known from its text.
    assert str(view_queryset_site(Branches, frozenset())) == at("base")


def test_view_queryset_site_adds_the_eager_loads_of_a_changed_super() -> None:
    site = view_queryset_site(Extends, frozenset({("prefetch", "book")}))
    assert str(site) == at("extends")


def test_view_queryset_site_keeps_the_default_when_the_text_cannot_tell() -> None:
    default = view_queryset_site(Unknown)
    assert default is not None
    assert view_queryset_site(Unknown, frozenset()) == default
    assert default.line == line_of(FILE, "# site: unknown last")


def test_view_queryset_site_of_a_model_only_view_is_its_model_line() -> None:
    assert str(view_queryset_site(ModelOnly)) == at("model")


def test_source_line_is_the_whole_statement_or_a_compound_statements_header(tmp_path: Any) -> None:
    from perftoolkit.core.events import CallSite
    from perftoolkit.middleware.capture.sites import source_line

    module = tmp_path / "rows.py"
    module.write_text(
        "def open_count(ticket):\n"
        "    return (\n"
        "        Dependency.objects.filter(ticket=ticket)  # the ticket's\n"
        '        .filter(status__in=("open", "new"))\n'
        "        .count()\n"
        "    )\n"
        "\n"
        "\n"
        "def rows(books):\n"
        "    for book in books.filter(\n"
        "        live=True\n"
        "    ):\n"
        "        print(book)\n"
    )

    def at(line: int) -> str | None:
        return source_line(CallSite("rows.py", line, "f"), str(module))

    whole = (
        "return (\n"
        "    Dependency.objects.filter(ticket=ticket)  # the ticket's\n"
        '    .filter(status__in=("open", "new"))\n'
        "    .count()\n"
        ")"
    )
    assert at(5) == at(2) == whole
    assert at(11) == "for book in books.filter(\n    live=True\n):"
    assert at(13) == "print(book)"
    # a file that does not parse: its line alone
    module.write_text("def f(:\n    return rows.count()\n")
    linecache.checkcache(str(module))
    assert at(2) == "return rows.count()"


def test_view_queryset_site_is_the_assignment_a_returned_self_queryset_holds() -> None:
    """Not the class's `queryset = Book.objects`, where a select_related would be built at import
    time, outside any request (a scoped manager refuses it)."""
    assert str(view_queryset_site(Scoped)) == at("list")
    assert str(view_queryset_site(Scoped, frozenset({("select", "author")}))) == at("list")
    detail = view_queryset_site(Scoped, frozenset({("prefetch", "tags")}))
    assert detail is not None
    assert detail.line == line_of(FILE, "# site: detail") - 2


def test_local_names_are_the_functions_own_but_not_the_requests(tmp_path: Any) -> None:
    """What a fix placed in another function cannot use: the function's parameters and
    variables, but not a variable that is only the request's user (perf_fix writes it as the
    view reaches the request)."""
    from perftoolkit.core.events import CallSite
    from perftoolkit.middleware.capture.sites import local_names

    module = tmp_path / "serializers_mod.py"
    module.write_text(
        "def get_flag(self, obj):\n"
        '    user = self.context["request"].user\n'
        "    limit = 3\n"
        "    return obj.items.filter(owner=user, rank__lt=limit, kind=KIND).exists()\n"
    )
    source = "return obj.items.filter(owner=user, rank__lt=limit, kind=KIND).exists()"
    site = CallSite("serializers_mod.py", 4, "get_flag")
    assert local_names(site, str(module), source) == ("limit", "obj")
