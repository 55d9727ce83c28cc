"""The learning platform's rows: catalogue, enrollments, reviews, payments, media."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import User

from lms.models import (
    Category,
    Course,
    CourseReview,
    Enrollment,
    Lesson,
    MediaFile,
    PaymentIntent,
    Section,
    Tag,
)
from sample_project.seed.base import FIRST_USER_ROWS, Size, ago, bulk, unique_offsets
from sample_project.seed.users import People

CATEGORIES = {
    "Programming": ["Python", "JavaScript", "Go", "Rust"],
    "Data": ["Databases", "Machine Learning", "Statistics", "Visualization"],
    "Design": ["Interfaces", "Typography", "Illustration", "Motion"],
    "Business": ["Marketing", "Finance", "Leadership", "Sales"],
    "Media": ["Video Editing", "Audio", "Photography", "Streaming"],
}
# Lower-case single words: they sort the same under every database collation.
TAGS = ["api", "beginner", "career", "cloud", "data", "design", "django", "advanced", "project"]
LEVELS = ["Foundations", "Essentials", "Workshop", "Masterclass", "Bootcamp"]
PRICES = [Decimal(p) for p in ("19.00", "29.00", "49.00", "79.00", "99.00", "149.00")]
COMMENTS = ["Clear and practical.", "Too fast in places.", "Great exercises.", "Worth it."]
MEDIA_TYPES = [("mp4", "video/mp4"), ("pdf", "application/pdf"), ("png", "image/png")]


def seed_learning(rng: random.Random, size: Size, people: People) -> None:
    courses = seed_courses(rng, size, people.instructors)
    published = [c for c in courses if c.is_published]
    seed_enrollments(rng, size, people.students, published)
    seed_media(rng, size, people.instructors)


def seed_courses(rng: random.Random, size: Size, instructors: list[User]) -> list[Course]:
    parents = bulk(Category, [Category(name=n, slug=slug(n)) for n in CATEGORIES])
    children = bulk(
        Category,
        [
            Category(name=child, slug=slug(child), parent=parent)
            for parent in parents
            for child in CATEGORIES[parent.name]
        ],
    )
    tags = bulk(Tag, [Tag(name=name) for name in TAGS])
    rows = []
    for i, instructor in enumerate(instructors):
        count = FIRST_USER_ROWS + 2 if i == 0 else size.courses_per_instructor
        for n in range(count):
            k = len(rows) + 1
            category = rng.choice(children)
            # instructor1 has two drafts at the end; elsewhere one course in ten is a draft.
            published = n < FIRST_USER_ROWS if i == 0 else rng.random() < 0.9
            rows.append(
                Course(
                    title=f"{category.name} {rng.choice(LEVELS)} {k}",
                    slug=f"course-{k}",
                    description=f"Course {k} of {instructor.username} on {category.name}.",
                    instructor=instructor,
                    category=category,
                    price=rng.choice(PRICES),
                    is_published=published,
                    published_at=ago(hours=7 * k) if published else None,
                    created_at=ago(hours=7 * k + 30),
                )
            )
    courses = bulk(Course, rows)
    bulk(
        Course.tags.through,
        [
            Course.tags.through(course_id=course.pk, tag_id=tag.pk)
            for course in courses
            for tag in rng.sample(tags, rng.randint(1, 3))
        ],
    )
    sections = bulk(
        Section,
        [
            Section(course=course, title=f"Part {p}", position=p)
            for course in courses
            for p in range(1, size.sections_per_course + 1)
        ],
    )
    bulk(
        Lesson,
        [
            Lesson(
                section=section,
                title=f"Lesson {section.position}.{p}",
                position=p,
                duration_minutes=rng.randint(3, 25),
            )
            for section in sections
            for p in range(1, rng.randint(2, 5) + 1)
        ],
    )
    return courses


def seed_enrollments(
    rng: random.Random, size: Size, students: list[User], published: list[Course]
) -> None:
    rows = []
    for i, student in enumerate(students):
        count = FIRST_USER_ROWS + 2 if i == 0 else size.enrollments_per_student
        for course in rng.sample(published, min(count, len(published))):
            status = rng.choices(["active", "completed", "cancelled"], weights=[6, 3, 1])[0]
            progress = {"active": rng.randint(0, 95), "completed": 100}.get(status, 10)
            rows.append(
                Enrollment(
                    user_id=student.pk,
                    course_id=course.pk,
                    status=status,
                    progress=progress,
                    payment_amount=course.price,
                    enrolled_at=ago(minutes=rng.randint(60 * 24, 60 * 24 * 365)),
                )
            )
    # Rows arrive in time order, as in production: a user's rows spread over the whole table.
    enrollments = bulk(Enrollment, sorted(rows, key=lambda e: e.enrolled_at))
    review_times = unique_offsets(rng, len(enrollments))
    bulk(
        CourseReview,
        [
            CourseReview(
                enrollment_id=e.pk,
                rating=rng.choice([1, 2, 3, 4, 4, 5, 5, 5]),
                comment=rng.choice(COMMENTS),
                created_at=ago(minutes=review_times[n]),
            )
            for n, e in enumerate(enrollments)
            if e.status != "cancelled" and rng.random() < 0.5
        ],
    )
    seed_payments(rng, enrollments)


def seed_payments(rng: random.Random, enrollments: list[Enrollment]) -> None:
    """Abandoned checkouts and declined cards come before the intent that went through, so most
    of a user's intents are not `succeeded`: (user, payment_status) narrows a user's rows."""
    attempts: list[tuple[datetime.datetime, Enrollment, str]] = []
    for e in enrollments:
        tries = rng.choices(range(5), weights=[2, 3, 3, 2, 1])[0]
        for n in range(tries, 0, -1):
            before = e.enrolled_at - datetime.timedelta(minutes=10 * n)
            attempts.append((before, e, rng.choice(["pending", "failed"])))
        attempts.append((e.enrolled_at, e, "refunded" if e.status == "cancelled" else "succeeded"))
    attempts.sort(key=lambda attempt: attempt[0])  # stable: ties keep their generated order
    bulk(
        PaymentIntent,
        [
            PaymentIntent(
                user_id=e.user_id,
                course_id=e.course_id,
                amount=e.payment_amount,
                payment_status=status,
                provider_reference=f"pi_{n:08d}",
                created_at=created_at,
            )
            for n, (created_at, e, status) in enumerate(attempts, start=1)
        ],
    )


def seed_media(rng: random.Random, size: Size, instructors: list[User]) -> None:
    created = unique_offsets(rng, size.media_files)
    rows = []
    for n in range(size.media_files):
        extension, content_type = rng.choice(MEDIA_TYPES)
        rows.append(
            MediaFile(
                owner_id=rng.choice(instructors).pk,
                file_name=f"upload-{n + 1:06d}.{extension}",
                content_type=content_type,
                size_bytes=rng.randint(10_000, 2_000_000_000),
                processing_status=rng.choices(
                    ["ready", "pending", "processing", "failed"], weights=[70, 15, 8, 7]
                )[0],
                created_at=ago(seconds=created[n]),
            )
        )
    bulk(MediaFile, rows)


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")
