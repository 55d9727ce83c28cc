"""Enrollments and the reviews written through them (seeds 002, 004)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from lms.indexes import seed004_indexes
from lms.models.courses import Course


class Enrollment(models.Model):
    STATUSES = [("active", "Active"), ("completed", "Completed"), ("cancelled", "Cancelled")]

    # No unique (user, course): a cancelled student may enrol again, so the only index on these
    # columns is Django's one per foreign key until seed 004's composite index exists.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(max_length=20, choices=STATUSES, default="active")
    progress = models.PositiveSmallIntegerField(default=0)
    payment_amount = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    enrolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = seed004_indexes("enrollment")

    def __str__(self) -> str:
        return f"enrollment {self.pk} ({self.status})"


class CourseReview(models.Model):
    # A review hangs off the enrollment, so its author is two hops away: review → enrollment → user.
    enrollment = models.OneToOneField(Enrollment, on_delete=models.CASCADE, related_name="review")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.rating}/5"
