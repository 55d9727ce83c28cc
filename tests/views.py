"""Views for the middleware tests: sync and async, one alias and two."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse

from tests.corpus.models import Book, Tag


def three_queries(request: HttpRequest) -> JsonResponse:
    count = Book.objects.count()
    tags = list(Tag.objects.order_by("id"))
    first = Book.objects.order_by("id").first()
    return JsonResponse({"books": count, "tags": len(tags), "first": first.pk if first else None})


def two_aliases(request: HttpRequest) -> JsonResponse:
    here = Tag.objects.count()
    there = Tag.objects.using("other").count()
    return JsonResponse({"default": here, "other": there})


def no_queries(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


async def async_queries(request: HttpRequest) -> JsonResponse:
    count = await Book.objects.acount()
    names = await sync_to_async(lambda: [t.name for t in Tag.objects.order_by("id")])()
    return JsonResponse({"books": count, "tags": names})


def failing(request: HttpRequest) -> JsonResponse:
    Tag.objects.count()
    raise ValueError("the view failed")


def by_pk(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse({"pk": pk})


def lookup(request: HttpRequest) -> JsonResponse:
    name = request.GET["name"]
    first = Tag.objects.filter(name=name).count()
    second = Tag.objects.filter(name=name).count()
    return JsonResponse({"found": first + second})


def cached(request: HttpRequest) -> JsonResponse:
    from django.core.cache import cache

    first = cache.get("perftoolkit-test")  # a miss
    cache.set("perftoolkit-test", 1)
    second = cache.get("perftoolkit-test")  # a hit
    many = cache.get_many(["perftoolkit-test", "absent"])  # one hit of two
    return JsonResponse({"first": first, "second": second, "many": len(many)})


def whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.user.pk})


def visits(request: HttpRequest) -> JsonResponse:
    """Counts the visitor's visits in the session: a read that modifies the session."""
    seen = request.session.get("visits", 0) + 1
    request.session["visits"] = seen  # case: session_modified
    return JsonResponse({"visits": seen})


def csrf_token(request: HttpRequest) -> JsonResponse:
    """Asks for a CSRF token: with CSRF_USE_SESSIONS, Django's middleware stores it in the
    session as the response goes out."""
    from django.middleware.csrf import get_token

    return JsonResponse({"token": bool(get_token(request))})


def flash(request: HttpRequest) -> JsonResponse:
    """Leaves a message for the next page (Django's messages framework)."""
    from django.contrib import messages

    messages.info(request, "saved")
    return JsonResponse({"ok": True})


def reads_session(request: HttpRequest) -> JsonResponse:
    """Reads the session and leaves it as it was."""
    return JsonResponse({"visits": request.session.get("visits", 0)})


def clock(request: HttpRequest) -> JsonResponse:
    """What a page that says "5 minutes ago" reads: the time now, by two of Python's clocks."""
    import time

    from django.utils import timezone

    return JsonResponse({"time": int(time.time()), "day": timezone.now().strftime("%d %B %Y")})


def stylesheets(request: HttpRequest) -> HttpResponse:
    """A page listing what a set holds, in the set's order: the order strings hash to, which
    changes from one interpreter to the next unless the hash seed is fixed."""
    names = {f"css/{name}.css" for name in ("forms", "tabs", "base", "print", "dark", "grid")}
    return HttpResponse("".join(f'<link href="{n}">' for n in names))


def everything(request: HttpRequest) -> JsonResponse:
    """Every hook at work: repeated statements, relation reads, cache reads."""
    from django.core.cache import cache

    books = list(Book.objects.select_related("author").order_by("id"))
    authors = [book.author.name for book in books]  # loaded: a relation read, no SQL
    names = [Book.objects.get(pk=book.pk).title for book in books]  # one statement, repeated
    cache.set("perftoolkit-everything", 1)
    hit = cache.get("perftoolkit-everything")
    many = cache.get_many(["perftoolkit-everything", "absent"])
    return JsonResponse({"authors": authors, "names": names, "hit": hit, "many": len(many)})


def echo_length(request: HttpRequest) -> JsonResponse:
    """Reads the request's body (no query; the test client checks no CSRF token)."""
    return JsonResponse({"length": len(request.body)})
