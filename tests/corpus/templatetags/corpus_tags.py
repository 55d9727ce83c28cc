from __future__ import annotations

from django import template
from django.template.loader import get_template

from tests.corpus.models import Book

register = template.Library()


@register.simple_tag
def author_of(book: Book) -> str:
    return book.author.name


@register.simple_tag
def book_row(book: Book) -> str:
    """Renders a partial per row: the rows are the calling template's, not this line's."""
    return get_template("corpus/book_row.html").render(
        {"book": book}
    )  # not where the rows are queried
