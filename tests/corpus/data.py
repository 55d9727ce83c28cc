"""Deterministic rows for the corpus: 6 books by 5 authors (two share one), 3 publishers; 6
enrollments of 4 students (users `reader0`..`reader3`), and `staff`, a staff user."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType

from tests.corpus.models import (
    Author,
    AuthorProfile,
    Book,
    Comment,
    Country,
    Enrollment,
    Loan,
    Memo,
    Note,
    Publisher,
    Review,
    Revision,
    Student,
    Tag,
    Topic,
)


def seed() -> None:
    country = Country.objects.create(name="Erewhon")
    publishers = [
        Publisher.objects.create(name=f"publisher {i}", country=country) for i in range(3)
    ]
    authors = [
        Author.objects.create(name=f"author {i}", publisher=publishers[i % 3]) for i in range(5)
    ]
    for author in authors[:3]:  # authors 3 and 4 have no profile: the reverse O2O raises
        AuthorProfile.objects.create(author=author, bio=f"bio of {author.name}")
    tags = [Tag.objects.create(name=name) for name in ("python", "django", "sql")]
    book_type = ContentType.objects.get_for_model(Book)
    for i in range(6):
        book = Book.objects.create(title=f"book {i}", author=authors[i % 5])
        book.tags.set(tags[: i % 3 + 1])
        Review.objects.create(book=book, rating=i, approved=i % 2 == 0)
        Review.objects.create(book=book, rating=5)
        Comment.objects.create(content_type=book_type, object_id=book.pk, text=f"on book {i}")
    books = list(Book.objects.order_by("id"))
    for i, review in enumerate(Review.objects.order_by("id")[:4]):
        Loan.objects.create(book=books[(i + 1) % len(books)], review=review)
    for book in books[:3]:
        Note.objects.create(book=book, text=f"note on {book.title}")
    for i, book in enumerate(books):
        Memo.objects.create(book=book)
        Memo.objects.create(book=book, hidden=i % 2 == 0)  # counted by the set only when shown
    # No passwords (hashing is slow): the tests log in with force_login.
    readers = [
        User.objects.create(username=f"reader{i}", first_name=f"Reader {i}") for i in range(4)
    ]
    User.objects.create(username="staff", is_staff=True)
    students = [Student.objects.create(user=user) for user in readers]
    for i, book in enumerate(books):
        Enrollment.objects.create(student=students[i % 4], book=book)
    for p in range(4):  # three revisions a topic, each but the first after another
        topic = Topic.objects.create(title=f"topic {p}")
        previous = None
        for r in range(3):
            previous = Revision.objects.create(
                topic=topic, previous=previous, editor=readers[r], title=f"topic {p} v{r}"
            )
        topic.current = previous
        topic.save()
