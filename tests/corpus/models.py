"""The smallest schema with every relation kind an N+1 can walk."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Country(models.Model):
    name = models.CharField(max_length=50)


class Publisher(models.Model):
    name = models.CharField(max_length=50)
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="publishers")

    class Meta:
        ordering = ["-name"]  # the default order a GROUP BY drops

    @property
    def catalogue(self) -> models.QuerySet[Book]:
        """Built here, run wherever the property is read."""
        return Book.objects.filter(author__publisher=self).select_related("author")  # eager: site


class Author(models.Model):
    name = models.CharField(max_length=50)
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="authors")


class AuthorProfile(models.Model):
    author = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="profile")
    bio = models.CharField(max_length=100)


class Tag(models.Model):
    name = models.CharField(max_length=30)
    # Rows of the same model through a many-to-many to itself (a prefetch of it brings Tag rows).
    similar = models.ManyToManyField("self", blank=True)

    def has_book(self, book: Book) -> bool:
        return self.books.filter(pk=book.pk).exists()  # case: membership


class Comment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    comments = GenericRelation(Comment)
    published = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.title} by {self.author.name}"  # case: dunder_str

    @property
    def publisher_name(self) -> str:
        return self.author.publisher.name  # case: prop

    def review_total(self) -> int:
        return self.reviews.count()

    def namesakes(self) -> int:
        """Run from a view and from two template lines: each caller's runs are its own."""
        return Book.objects.filter(title__startswith=self.title[:4]).count()  # model: namesakes

    def approved_reviews(self) -> int:
        # called from a template: the filter is on this line, not the template's
        return self.reviews.filter(approved=True).count()  # case: template_filter

    def ratings_over(self, threshold: int) -> int:
        return self.reviews.filter(rating__gte=threshold).count()  # model: ratings_over

    def ordered_tags(self) -> models.QuerySet[Tag]:
        return self.tags.order_by("name")  # a clone: a prefetch of tags would not serve it


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    rating = models.IntegerField()
    approved = models.BooleanField(default=True)


class Loan(models.Model):
    """Two routes to Book: `book` directly, and `review__book`."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="loans")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="loans")


class VisibleMemos(models.Manager["Memo"]):
    """A default manager that leaves rows out (a related set counts without them) and orders the
    others (as django-treebeard's managers do): neither is a read's own filter or order."""

    def get_queryset(self) -> models.QuerySet[Memo]:
        return super().get_queryset().exclude(hidden=True).order_by("id")


class Memo(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="memos")
    hidden = models.BooleanField(default=False)

    objects = VisibleMemos()


class Note(models.Model):
    """A reverse foreign key without related_name: accessor `note_set`, lookup name `note`."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    text = models.CharField(max_length=50)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.text = self.text.strip()
        super().save(*args, **kwargs)  # model: Note.save


class Student(models.Model):
    """A user's student record: `enrollment.student.user` ends on Django's own User."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="students")


class Enrollment(models.Model):
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="enrollments")


class ShelfBook(Book):
    """A proxy: its rows are Book rows, handed out as another class (django-polymorphic hands out
    a base model's rows as their children)."""

    class Meta:
        proxy = True


class Topic(models.Model):
    """A topic and its revisions point at each other (a wiki's article and current revision)."""

    title = models.CharField(max_length=50)
    current = models.ForeignKey("Revision", null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.current.title if self.current else self.title  # model: Topic.__str__


class Revision(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="revisions")
    previous = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, related_name="+")
    editor = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=50)
