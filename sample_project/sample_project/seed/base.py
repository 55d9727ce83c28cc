"""What every seeder shares: sizes, the fixed clock, the fixed random source, bulk inserts."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import models

# No now() anywhere in seeded data: the same command gives the same rows, ids and payloads.
BASE_TIME = datetime.datetime(2025, 1, 15, 9, 0, tzinfo=datetime.UTC)
RANDOM_SEED = 20250115
BATCH_SIZE = 2000
# The numbered users the tests and the README name (student1, instructor1, advertiser1, manager1)
# get this many rows in every list, so each list fills a page of 20 and has a second page.
FIRST_USER_ROWS = 22
PASSWORD = "password"

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Size:
    students: int
    instructors: int
    advertisers: int
    managers: int
    courses_per_instructor: int
    sections_per_course: int
    enrollments_per_student: int
    media_files: int
    campaigns_per_advertiser: int
    payouts_per_campaign: int
    projects_per_manager: int


SIZES = {
    "small": Size(
        students=40,
        instructors=4,
        advertisers=2,
        managers=2,
        courses_per_instructor=6,
        sections_per_course=4,
        enrollments_per_student=6,
        media_files=200,
        campaigns_per_advertiser=5,
        payouts_per_campaign=4,
        projects_per_manager=5,
    ),
    # Tens of thousands of enrollments, payment intents, media files and profiles: enough for
    # the planners to prefer seed 004's indexes over a scan.
    "medium": Size(
        students=20_000,
        instructors=80,
        advertisers=20,
        managers=20,
        courses_per_instructor=8,
        sections_per_course=4,
        enrollments_per_student=4,
        media_files=40_000,
        campaigns_per_advertiser=10,
        payouts_per_campaign=10,
        projects_per_manager=10,
    ),
    "large": Size(
        students=100_000,
        instructors=300,
        advertisers=60,
        managers=60,
        courses_per_instructor=8,
        sections_per_course=5,
        enrollments_per_student=5,
        media_files=200_000,
        campaigns_per_advertiser=20,
        payouts_per_campaign=20,
        projects_per_manager=20,
    ),
}


def new_random() -> random.Random:
    return random.Random(RANDOM_SEED)


def bulk(model: type[M], rows: Sequence[M]) -> list[M]:
    """Insert `rows` in batches; on both databases the objects get their ids back."""
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def ago(**delta: float) -> datetime.datetime:
    return BASE_TIME - datetime.timedelta(**delta)


def unique_offsets(rng: random.Random, count: int, spread: int = 50) -> list[int]:
    """`count` distinct positive integers in random order: unique timestamps keep orderings total."""
    return rng.sample(range(1, count * spread + 1), count)
