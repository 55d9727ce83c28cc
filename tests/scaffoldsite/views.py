"""Views of every kind the scaffold reads: DRF viewsets and generic views, Django's generic views,
function views; over the corpus's models."""

from __future__ import annotations

from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView
from rest_framework import generics, serializers, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.corpus.models import Author, Book, Note, Publisher, Review, Tag
from tests.corpus.serializers import AuthorSerializer, NestedBookSerializer


class NoteSerializer(serializers.ModelSerializer[Note]):
    class Meta:
        model = Note
        fields = ["id", "text"]


class ReviewSerializer(serializers.ModelSerializer[Review]):
    class Meta:
        model = Review
        fields = ["id", "book", "rating", "approved"]
        read_only_fields = ["approved"]


class BookViewSet(viewsets.ReadOnlyModelViewSet[Book]):
    queryset = Book.objects.order_by("id")
    serializer_class = NestedBookSerializer

    @action(detail=True)
    def reviews(self, request: Request, pk: str) -> Response:
        return Response([r.rating for r in self.get_object().reviews.all()])


class ReviewViewSet(viewsets.ModelViewSet[Review]):
    queryset = Review.objects.order_by("id")
    serializer_class = ReviewSerializer


class AuthorByName(generics.RetrieveAPIView[Author]):
    queryset = Author.objects.order_by("id")
    serializer_class = AuthorSerializer
    lookup_field = "name"


class PublisherBooks(generics.ListAPIView[Book]):
    serializer_class = NestedBookSerializer

    def get_queryset(self) -> Any:
        return Book.objects.filter(author__publisher=self.kwargs["publisher_pk"]).order_by("id")


class TagDetail(DetailView):  # type: ignore[type-arg]
    model = Tag

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return HttpResponse(self.object.name)


class WhoAmI(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]

    def get(self, request: Request) -> Response:
        return Response({"username": getattr(request.user, "username", None)})


class ScriptPage(TemplateView):
    """A page whose script reads the id in the browser: the server never does."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse("<div id=app></div>")


class Ping(APIView):
    def post(self, request: Request) -> Response:
        return Response({"pong": True})


def country_page(request: HttpRequest, country_pk: int) -> HttpResponse:
    return HttpResponse(str(country_pk))


def archive(request: HttpRequest, year: int, month: int) -> HttpResponse:
    return HttpResponse(f"{year}-{month}")


def plan_page(request: HttpRequest, id: int) -> HttpResponse:
    return HttpResponse(get_object_or_404(Publisher, pk=id).name)


def author_card(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(get_object_or_404(Author, pk=pk, name="author 3").name)


def book_page(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    # The slug is only for people reading the address: the view never reads it.
    return HttpResponse(Book.objects.get(pk=pk).title)


def sitemap(request: HttpRequest, section: str, sitemaps: dict[str, Any]) -> HttpResponse:
    return HttpResponse(f"{section} of {len(sitemaps)}")


class BookNotes(generics.ListAPIView[Note]):
    serializer_class = NoteSerializer

    def get_queryset(self) -> Any:
        return Note.objects.filter(book=self.kwargs["book_pk"]).order_by("id")


def delete_tag(request: HttpRequest, pk: int) -> HttpResponse:
    Tag.objects.filter(pk=pk).delete()  # on GET: a load test must not request it unasked
    return HttpResponse("deleted")


@require_POST
def pin(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pinned")


def mystery(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(token)


def logout(request: HttpRequest) -> HttpResponse:
    return HttpResponse("bye")


class ModelFromUrl(DetailView):  # type: ignore[type-arg]
    """Wagtail's workflow views do this: `model` read from URL arguments, so asking for it outside
    a request raises."""

    template_name = "page.html"

    @property
    def model(self) -> Any:  # type: ignore[override]
        return apps_get_model(self.kwargs["app_label"], self.kwargs["model_name"])


def apps_get_model(app_label: str, model_name: str) -> Any:
    from django.apps import apps

    return apps.get_model(app_label, model_name)


def failing_page(request: HttpRequest) -> HttpResponse:
    """A page that raises on purpose (Wagtail's admin has one: failwhale)."""
    raise RuntimeError("this page always fails")


def shrugs_off(request: HttpRequest) -> HttpResponse:
    """A statement that fails and is caught (a template filter's cast on odd data), then more
    queries: served in autocommit, the page answers 200."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM perftoolkit_no_such_table")
    except DatabaseError:
        pass
    return HttpResponse(f"{Author.objects.count()} authors")


def author_or_404(request: HttpRequest, pk: int) -> HttpResponse:
    """Only some authors have a page: the others answer 404."""
    author = Author.objects.get(pk=pk)
    if author.name.endswith(("0", "2", "4")):
        raise Http404("no page for this author")
    return HttpResponse(author.name)


def loop_a(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/loop/b/")


def loop_b(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/loop/a/")


def off_site(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("https://example.org/code")


def to_forbidden(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/forbidden/")


def forbidden(request: HttpRequest) -> HttpResponse:
    return HttpResponseForbidden("no")


def to_page(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/api/whoami/")


# Pages whose names say nothing of what they do: the probe sees it.
def sessions_end(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout as end_session

    end_session(request)  # clears the session cookie every later request of the profile sends
    return HttpResponse("ended")


def members_only(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponseForbidden("members only")
    request.session["seen"] = True  # the session's own row: not the project's data
    return HttpResponse(request.user.get_username())


def rename_author(request: HttpRequest, pk: int) -> HttpResponse:
    Author.objects.filter(pk=pk).update(name="renamed")  # on GET, named as a page
    return HttpResponse("ok")


class DeleteRevision(TemplateView):
    """A view class named for what it does, on a route that says nothing."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse("gone")


def with_visit(view: Any) -> Any:
    """A site-wide write: every page notes the visit (a `last seen` middleware would)."""

    def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        Publisher.objects.filter(pk=-1).update(name="visited")
        return view(request, **kwargs)

    return wrapped


def touch(request: HttpRequest) -> HttpResponse:
    """Writes a load test may repeat: a time noted, a counter counted, a row added."""
    from django.contrib.auth.models import User
    from django.db.models import F
    from django.utils import timezone

    User.objects.filter(pk=request.user.pk).update(last_login=timezone.now())
    Review.objects.filter(pk__in=[-1]).update(rating=F("rating") + 1)
    Tag.objects.create(name="seen")
    return HttpResponse("noted")


def forecast(request: HttpRequest) -> HttpResponse:
    """A page that calls another site's API (and shows a default when it cannot)."""
    import urllib.request
    from contextlib import suppress

    with suppress(OSError):
        urllib.request.urlopen("http://api.example.org/forecast", timeout=0.5)
    return HttpResponse("sunny")
