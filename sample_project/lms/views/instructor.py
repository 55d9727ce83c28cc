"""The instructor dashboard (seed 004 courses/views.py:775-786: "20 courses = 60+ queries")."""

from __future__ import annotations

from django.db.models import Avg, Count, QuerySet, Sum
from rest_framework import generics

from lms.access import get_user_auth_context
from lms.models import Course
from lms.permissions import HasLMSPermission
from lms.serializers.courses import InstructorCourseSerializer
from sample_project.variant import optimized


class InstructorCourseList(generics.ListAPIView):
    """Every course of the instructor (admins see all), with per-course aggregates."""

    serializer_class = InstructorCourseSerializer
    permission_classes = [HasLMSPermission]
    required_permissions = {"GET": "view_dashboard"}

    def get_queryset(self) -> QuerySet[Course]:
        user = self.request.user
        courses = Course.objects.order_by("-created_at", "id")
        # The permission check loaded the roles already: in `before` this repeats its queries.
        if "admin" not in get_user_auth_context(user).roles:
            courses = courses.filter(instructor=user)
        if optimized():
            # seed 004's own fix, "use prefetch_related and annotations".
            courses = courses.select_related("category").annotate(
                total_revenue=Sum("enrollments__payment_amount"),
                student_count=Count("enrollments"),
                average_rating=Avg("enrollments__review__rating"),
            )
        return courses
