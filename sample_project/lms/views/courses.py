"""Public course catalogue API (seed 004 `courses/views.py`)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, QuerySet, Sum
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lms.models import Category, Course, CourseReview, Enrollment, PaymentIntent, Section
from lms.permissions import HasLMSPermission, IsEnrolledToWrite
from lms.serializers.activity import EnrollmentSerializer
from lms.serializers.courses import (
    CategorySerializer,
    CourseDetailSerializer,
    CourseListSerializer,
    CourseReviewSerializer,
)
from sample_project.variant import optimized


def published_courses() -> QuerySet[Course]:
    return Course.objects.filter(is_published=True).order_by("-published_at", "id")


def with_enrollment_flag(courses: QuerySet[Course], user: Any) -> QuerySet[Course]:
    """`is_enrolled` computed in the same query, for a logged-in user."""
    if not user.is_authenticated:
        return courses
    active = Enrollment.objects.filter(user=user, course=OuterRef("pk"), status="active")
    return courses.annotate(is_enrolled=Exists(active))


class CategoryList(generics.ListAPIView):
    """Seed 004 courses/serializers.py:25-28, "Category Children N+1"."""

    serializer_class = CategorySerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Category]:
        categories = Category.objects.order_by("id")
        if optimized():
            categories = (
                categories.select_related("parent")
                .prefetch_related("children")
                .annotate(course_count=Count("courses"))
            )
        return categories


class CourseList(generics.ListAPIView):
    """Seed 004: `/courses/` ran 26 queries, 4 once optimized."""

    serializer_class = CourseListSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Course]:
        courses = published_courses()
        if optimized():
            courses = (
                courses.select_related("instructor__profile", "category")
                .prefetch_related("tags")
                .annotate(student_count=Count("enrollments"))
            )
            courses = with_enrollment_flag(courses, self.request.user)
        return courses


class CourseDetail(generics.RetrieveAPIView):
    """Seed 004: `/courses/{id}/` ran 15 queries, 3 once optimized."""

    serializer_class = CourseDetailSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Course]:
        courses = published_courses()
        if optimized():
            # The aggregates add a GROUP BY, which drops Section's Meta.ordering: restate it.
            sections = Section.objects.annotate(
                lesson_count=Count("lessons"), duration_minutes=Sum("lessons__duration_minutes")
            ).order_by("position", "id")
            courses = (
                courses.select_related("instructor__profile", "category")
                .prefetch_related("tags", Prefetch("sections", queryset=sections))
                .annotate(
                    student_count=Count("enrollments"),
                    average_rating=Avg("enrollments__review__rating"),
                )
            )
            courses = with_enrollment_flag(courses, self.request.user)
        return courses


class CourseReviews(generics.ListCreateAPIView):
    """Reviews of a course, newest first; writing one needs an active enrollment."""

    serializer_class = CourseReviewSerializer
    permission_classes = [IsEnrolledToWrite]
    required_permissions = {"POST": "add_coursereview"}

    @cached_property
    def course(self) -> Course:
        return get_object_or_404(Course, pk=self.kwargs["pk"])

    def get_queryset(self) -> QuerySet[CourseReview]:
        reviews = CourseReview.objects.filter(enrollment__course=self.course).order_by(
            "-created_at", "-id"
        )
        if optimized():
            reviews = reviews.select_related("enrollment__user")
        return reviews

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        enrollment = (
            Enrollment.objects.filter(user=self.request.user, course=self.course, status="active")
            .order_by("id")
            .first()
        )
        if enrollment is None or CourseReview.objects.filter(enrollment=enrollment).exists():
            raise serializers.ValidationError({"detail": "This enrollment has a review already."})
        serializer.save(enrollment=enrollment)


class CourseEnroll(APIView):
    """Enrol the user in a published course and record the payment."""

    permission_classes = [HasLMSPermission]
    required_permissions = {"POST": "add_enrollment"}

    def post(self, request: Request, pk: int) -> Response:
        course = get_object_or_404(Course, pk=pk, is_published=True)
        active = Enrollment.objects.filter(user=request.user, course=course, status="active")
        if active.exists():
            return Response(
                {"detail": "Already enrolled in this course."}, status=status.HTTP_400_BAD_REQUEST
            )
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                user=request.user, course=course, payment_amount=course.price
            )
            PaymentIntent.objects.create(
                user=request.user,
                course=course,
                amount=course.price,
                payment_status="succeeded",
                provider_reference=f"pi_enroll_{enrollment.pk}",
            )
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)
