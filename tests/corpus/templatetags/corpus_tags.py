from __future__ import annotations

from django import template

from tests.corpus.models import Book

register = template.Library()


@register.simple_tag
def author_of(book: Book) -> str:
    return book.author.name
