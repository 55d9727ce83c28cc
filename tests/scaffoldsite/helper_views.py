"""Views that look their rows up in helper methods, in `get()`, through a queryset's calls, and
two parameters together (a review of a book): the scaffold follows them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import DetailView, ListView

from tests.corpus.models import Author, Book, Review


class ShelfPage(View):
    """The lookup two helper calls down, its parameter passed as an argument."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(self.load_book().title)

    def load_book(self) -> Book:
        return self.find_book(self.kwargs["pk"])

    def find_book(self, book_pk: int) -> Book:
        return get_object_or_404(Book, pk=book_pk)


class TitlePage(ListView):  # type: ignore[type-arg]
    """Looks its book up in `get()`, through `select_related()`; lists the book's reviews."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            self.book = Book._default_manager.select_related("author").get(
                title=self.kwargs["title"]
            )
        except Book.DoesNotExist:
            raise Http404 from None
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Review]:
        return self.book.reviews.all()

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return HttpResponse(str(len(context["object_list"])))


class WriterPage(View):
    """Looks up an Author by a value it decodes first: Author.name is what `name` takes."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        author = get_object_or_404(Author, name=unquote(self.kwargs["name"]))
        return HttpResponse(author.name)


def visible_books(user: Any) -> QuerySet[Book]:
    return Book._default_manager.filter(published=True)


def book_for(user: Any, title: str) -> Book:
    try:
        return visible_books(user).get(title=title)
    except Book.DoesNotExist:
        raise Http404 from None


class TitleReview(DetailView):  # type: ignore[type-arg]
    """A review of the book a title names: `title` is its book's (Review.book.title)."""

    model = Review

    def get_object(self, queryset: Any = None) -> Review:
        book = book_for(self.request.user, self.kwargs["title"])
        try:
            return book.reviews.get(pk=self.kwargs["review_id"])
        except Review.DoesNotExist:
            raise Http404 from None

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return HttpResponse(str(self.object.pk))


class BookReview(DetailView):  # type: ignore[type-arg]
    """A review among its book's: get_queryset filters by the parent's parameter."""

    model = Review

    def get_queryset(self) -> QuerySet[Review]:
        return Review.objects.filter(book=self.kwargs["book_pk"])

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return HttpResponse(str(self.object.pk))


class LibraryReview(View):
    """The book kept on the view, then the review looked up with it."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.book = get_object_or_404(Book, pk=kwargs["book_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        review = Review.objects.filter(book=self.book, pk=self.kwargs["pk"]).first()
        if review is None:
            raise Http404
        return HttpResponse(str(review.pk))


class AuthorReview(View):
    """Both parameters in one lookup of a helper, passed positionally and by name."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.fetch(request.user, kwargs["name"], review_pk=kwargs["review_pk"])
        return super().dispatch(request, *args, **kwargs)

    def fetch(self, user: Any, author_name: str, review_pk: int | None = None) -> None:
        self.review = get_object_or_404(Review, pk=review_pk, book__author__name=author_name)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(str(self.review.pk))


class WriterCard(View):
    """A name and a pk both of an Author (`<name>_<pk>`): one author's, not two."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        author = get_object_or_404(Author, pk=self.kwargs["pk"])
        if author.name != self.kwargs["author_name"]:
            raise Http404
        return HttpResponse(author.name)


def _book_for_user(request: HttpRequest, book_title: str, with_author: bool = False) -> Book:
    """A module helper the function view hands its parameter to; the lookup goes through a
    queryset kept in a variable."""
    rows = Book._default_manager.select_related("author")
    if with_author:
        rows = rows.filter(author__isnull=False)
    return get_object_or_404(rows, title=book_title)


def book_card(request: HttpRequest, title: str) -> HttpResponse:
    book = _book_for_user(request, title, with_author=True)
    return HttpResponse(book.title)
