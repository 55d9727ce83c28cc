"""The learning platform's models, one module per app of the seed codebase."""

from __future__ import annotations

from lms.models.accounts import Plan, Subscription, UserProfile
from lms.models.courses import Category, Course, Lesson, Section, Tag
from lms.models.enrollments import CourseReview, Enrollment
from lms.models.media_library import MediaFile
from lms.models.payments import PaymentIntent

__all__ = [
    "Category",
    "Course",
    "CourseReview",
    "Enrollment",
    "Lesson",
    "MediaFile",
    "PaymentIntent",
    "Plan",
    "Section",
    "Subscription",
    "Tag",
    "UserProfile",
]
