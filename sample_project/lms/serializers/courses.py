"""Course serializers. Each field that reaches across a relation costs a query per row unless the
view's queryset already loaded it (select_related / prefetch_related / annotate in `after`)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Avg, Sum
from rest_framework import serializers

from lms.models import Category, Course, CourseReview, Section


def rounded(value: Decimal | float | None) -> float | None:
    """Averages as floats with two decimals, equal whatever database computed them."""
    return None if value is None else round(float(value), 2)


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.name", read_only=True, allow_null=True)
    children = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    course_count = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "children", "course_count"]

    def get_course_count(self, category: Category) -> int:
        if hasattr(category, "course_count"):
            return int(category.course_count)
        return category.courses.count()


class CourseListSerializer(serializers.ModelSerializer):
    instructor = serializers.CharField(source="instructor.username", read_only=True)
    # A dotted source two relations deep: course → instructor → profile.
    instructor_name = serializers.CharField(
        source="instructor.profile.display_name", read_only=True
    )
    category = serializers.CharField(source="category.name", read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    student_count = serializers.SerializerMethodField()
    is_enrolled = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "slug",
            "price",
            "instructor",
            "instructor_name",
            "category",
            "tags",
            "student_count",
            "is_enrolled",
            "published_at",
        ]

    def get_student_count(self, course: Course) -> int:
        if hasattr(course, "student_count"):  # .annotate(student_count=Count("enrollments"))
            return int(course.student_count)
        return course.enrollments.count()  # seed 004: a COUNT per course

    def get_is_enrolled(self, course: Course) -> bool:
        user = self.context["request"].user
        if not user.is_authenticated:
            return False
        if hasattr(course, "is_enrolled"):  # .annotate(is_enrolled=Exists(...))
            return bool(course.is_enrolled)
        # seed 004 courses/serializers.py:102-111, "Enrollment Status Checks" per course.
        return course.enrollments.filter(user=user, status="active").exists()


class SectionSerializer(serializers.ModelSerializer):
    lesson_count = serializers.SerializerMethodField()
    duration_minutes = serializers.SerializerMethodField()

    class Meta:
        model = Section
        fields = ["id", "title", "position", "lesson_count", "duration_minutes"]

    def get_lesson_count(self, section: Section) -> int:
        if hasattr(section, "lesson_count"):
            return int(section.lesson_count)
        return section.lessons.count()

    def get_duration_minutes(self, section: Section) -> int:
        if hasattr(section, "duration_minutes"):
            return int(section.duration_minutes or 0)
        # seed 004 courses/serializers.py:165-181, progress and duration sums per section.
        return int(section.lessons.aggregate(total=Sum("duration_minutes"))["total"] or 0)


class CourseDetailSerializer(CourseListSerializer):
    sections = SectionSerializer(many=True, read_only=True)
    average_rating = serializers.SerializerMethodField()

    class Meta(CourseListSerializer.Meta):
        fields = [
            *CourseListSerializer.Meta.fields,
            "description",
            "average_rating",
            "sections",
        ]

    def get_average_rating(self, course: Course) -> float | None:
        if hasattr(course, "average_rating"):
            return rounded(course.average_rating)
        reviews = CourseReview.objects.filter(enrollment__course=course)
        return rounded(reviews.aggregate(value=Avg("rating"))["value"])


class InstructorCourseSerializer(serializers.ModelSerializer):
    """A row of the instructor dashboard (seed 004 courses/views.py:775-786)."""

    category = serializers.CharField(source="category.name", read_only=True)
    student_count = serializers.SerializerMethodField()
    total_revenue = serializers.SerializerMethodField()
    average_rating = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "is_published",
            "price",
            "category",
            "student_count",
            "total_revenue",
            "average_rating",
        ]

    def get_student_count(self, course: Course) -> int:
        if hasattr(course, "student_count"):
            return int(course.student_count)
        return course.enrollments.count()

    def get_total_revenue(self, course: Course) -> str:
        if hasattr(course, "total_revenue"):
            total = course.total_revenue
        else:
            total = course.enrollments.aggregate(total=Sum("payment_amount"))["total"]
        return f"{total or Decimal(0):.2f}"

    def get_average_rating(self, course: Course) -> float | None:
        if hasattr(course, "average_rating"):
            return rounded(course.average_rating)
        reviews = CourseReview.objects.filter(enrollment__course=course)
        return rounded(reviews.aggregate(value=Avg("rating"))["value"])


class CourseReviewSerializer(serializers.ModelSerializer):
    # Two hops per review: review → enrollment → user (seed 004 courses/views.py:274-276).
    student = serializers.CharField(source="enrollment.user.username", read_only=True)

    class Meta:
        model = CourseReview
        fields = ["id", "student", "rating", "comment", "created_at"]
        read_only_fields = ["created_at"]

    def validate_rating(self, value: int) -> int:
        if not 1 <= value <= 5:
            raise serializers.ValidationError("Rate from 1 to 5.")
        return value
