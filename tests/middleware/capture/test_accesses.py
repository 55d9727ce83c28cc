"""Relation reads are recorded on every supported Django: each accessor kind, through the capture.

Django 6.1 moved GenericForeignKey's `__get__` to a separate GenericForeignKeyDescriptor (ticket
#28586, fetch modes); wrapping by the class's own `__dict__` then failed and took the whole
capture down. These tests pin the behaviour, not the class layout.
"""

from __future__ import annotations

from typing import Any

import django
import pytest
from django.db import models
from django.db.models.fields import related_descriptors as rd

from perftoolkit.middleware.capture import accesses
from perftoolkit.middleware.capture.capture import capture_queries
from tests.corpus.data import seed
from tests.corpus.models import Author, AuthorProfile, Book, Comment, Publisher

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus() -> None:
    seed()


def _accessed(read: Any) -> frozenset[tuple[str, str]]:
    with capture_queries() as capture:
        read()
    assert capture.access is not None
    return capture.access.accessed()


def test_every_relation_kind_is_recorded(corpus: None) -> None:
    book = Book.objects.order_by("id").first()
    author = Author.objects.filter(profile__isnull=False).order_by("id").first()
    profile = AuthorProfile.objects.order_by("id").first()
    comment = Comment.objects.order_by("id").first()
    assert book is not None
    assert author is not None
    assert profile is not None
    assert comment is not None

    def read() -> None:
        # Reads are noted once a query asked for an eager load (what they are read for).
        assert Publisher.objects.select_related("country").first() is not None
        assert book.author.name  # lazy foreign key (ForwardManyToOneDescriptor)
        assert list(author.books.all())  # reverse foreign key (ReverseManyToOneDescriptor)
        assert list(book.tags.all())  # many-to-many (ManyToManyDescriptor, a subclass)
        assert author.profile.bio  # reverse one-to-one (ReverseOneToOneDescriptor)
        assert profile.author.name  # forward one-to-one (ForwardOneToOneDescriptor, a subclass)
        assert comment.target is not None  # generic foreign key
        assert list(book.comments.all())  # generic relation (a ReverseManyToOneDescriptor)

    assert _accessed(read) == {
        ("corpus.Book", "author"),
        ("corpus.Author", "books"),
        ("corpus.Book", "tags"),
        ("corpus.Author", "profile"),
        ("corpus.AuthorProfile", "author"),
        ("corpus.Comment", "target"),
        ("corpus.Book", "comments"),
    }


def test_reads_before_any_eager_load_are_not_noted(corpus: None) -> None:
    """They cannot be reads of what a later eager load brings in; noting them cost every query of
    every request a frame lookup."""
    book = Book.objects.order_by("id").first()
    assert book is not None
    with capture_queries() as capture:
        assert book.author.publisher.name
        assert capture.counted()[1] is None
        assert Book.objects.select_related("author").order_by("id")[0].author.name
    assert capture.access is not None
    assert capture.access.accessed() == {("corpus.Book", "author")}
    assert [q.eager for q in capture.queries] == [(), (), (("select", "author"),)]


def test_reads_served_by_eager_loads_are_recorded(corpus: None) -> None:
    """The reads that run no SQL: what tells a used eager load from an unused one."""

    def read() -> None:
        for book in Book.objects.select_related("author").prefetch_related("tags", "comments"):
            assert book.author.name
            list(book.tags.all())
        for comment in Comment.objects.prefetch_related("target"):
            assert comment.target is not None

    assert _accessed(read) == {
        ("corpus.Book", "author"),
        ("corpus.Book", "tags"),
        ("corpus.Comment", "target"),
    }


def test_the_orm_own_reads_are_not_recorded(corpus: None) -> None:
    """prefetch_related sets caches through the descriptors: not the code's reads."""
    assert _accessed(lambda: list(Book.objects.prefetch_related("author", "tags"))) == set()


def test_nothing_is_recorded_outside_a_capture(corpus: None) -> None:
    with capture_queries() as capture:
        pass
    book = Book.objects.order_by("id").first()
    assert book is not None
    assert book.author.name
    assert capture.access is not None
    assert capture.access.accessed() == set()


def test_every_accessor_class_runs_the_tracking_getter() -> None:
    accesses.install_access_tracking()
    classes = [
        rd.ForwardManyToOneDescriptor,
        rd.ForwardOneToOneDescriptor,
        rd.ReverseOneToOneDescriptor,
        rd.ReverseManyToOneDescriptor,
        rd.ManyToManyDescriptor,
        type(Book.__dict__["comments"]),  # ReverseGenericManyToOneDescriptor
    ]
    # What each relation actually puts on its model class, whatever the Django version calls it.
    classes.append(type(Comment.__dict__["target"]))
    for klass in classes:
        getter = accesses._getter_of(klass)
        assert getter is not None, klass
        assert getattr(getter, "_perftoolkit_tracked", False), klass
        # Wrapped once: the wrapper wraps Django's own function, not another wrapper.
        assert not getattr(getter.__wrapped__, "_perftoolkit_tracked", False), klass


def test_installing_twice_wraps_once() -> None:
    accesses.install_access_tracking()
    before = {k: k.__dict__.get("__get__") for k in accesses._descriptor_classes()}
    for klass in accesses._descriptor_classes():
        accesses._track(klass)  # what a second install would do, without the once-only flag
    assert {k: k.__dict__.get("__get__") for k in accesses._descriptor_classes()} == before


def test_a_class_without_a_getter_is_refused() -> None:
    class NotADescriptor:
        pass

    with pytest.raises(TypeError):
        accesses._track(NotADescriptor)


def test_a_getter_inherited_from_a_base_is_wrapped_on_the_class() -> None:
    class Base:
        def __get__(self, instance: Any, cls: Any = None) -> Any:
            return "value"

    class Accessor(Base):
        pass

    accesses._track(Accessor)
    assert not hasattr(Base.__dict__["__get__"], "__wrapped__")  # the base is left alone
    assert Accessor.__dict__["__get__"].__wrapped__ is Base.__dict__["__get__"]

    class Owner:
        attr = Accessor()

    assert Owner().attr == "value"


@pytest.mark.skipif(django.VERSION < (6, 1), reason="fetch modes are new in Django 6.1")
def test_fetch_peers_reads_are_recorded(corpus: None) -> None:
    def read() -> None:
        # Reads are noted once a query asked for an eager load (what they are read for).
        assert Publisher.objects.select_related("country").first() is not None
        for book in Book.objects.fetch_mode(models.FETCH_PEERS).order_by("id"):
            assert book.author.name
        for comment in Comment.objects.fetch_mode(models.FETCH_PEERS):
            assert comment.target is not None

    with capture_queries() as capture:
        read()
    assert capture.access is not None
    assert capture.access.accessed() == {("corpus.Book", "author"), ("corpus.Comment", "target")}
    # The publisher; the books, then all their authors at once; the comments, then all their
    # targets at once (seed() left the content type cached). The peers' loads run through
    # prefetch_related_objects.
    assert [q.prefetch for q in capture.queries] == [False, False, True, False, True]
