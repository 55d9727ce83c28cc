from __future__ import annotations

from typing import Any

from rest_framework import generics, pagination
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from tests.corpus import serializers
from tests.corpus.generic import OffsetPages
from tests.corpus.models import Book, Enrollment, Loan, Review


class NestedBooks(generics.ListAPIView[Book]):
    queryset = Book.objects.order_by("id")  # origin: drf_nested
    serializer_class = serializers.NestedBookSerializer


class ProjectPagedBooks(generics.ListAPIView[Book]):
    queryset = Book.objects.order_by("id")  # origin: drf_project_paginator
    serializer_class = serializers.NestedBookSerializer
    pagination_class = OffsetPages  # type: ignore[assignment]


class TagIdBooks(generics.ListAPIView[Book]):
    queryset = Book.objects.order_by("id")  # origin: drf_m2m
    serializer_class = serializers.TagIdsBookSerializer


class DottedSourceBooks(generics.ListAPIView[Book]):
    serializer_class = serializers.DottedSourceBookSerializer

    def get_queryset(self) -> Any:
        return Book.objects.order_by("id")  # origin: drf_dotted


class StringRelatedReviews(generics.ListAPIView[Review]):
    queryset = Review.objects.order_by("id")  # origin: drf_string_related
    serializer_class = serializers.StringRelatedReviewSerializer


class MethodFieldBooks(generics.ListAPIView[Book]):
    queryset = Book.objects.order_by("id")  # origin: drf_method_count
    serializer_class = serializers.MethodFieldBookSerializer


class LookupBooks(generics.ListAPIView[Book]):
    queryset = Book.objects.order_by("id")  # origin: drf_lookup_exists
    serializer_class = serializers.LookupBookSerializer


class MethodOrderedTagBooks(generics.ListAPIView[Book]):
    queryset = Book.objects.order_by("id")  # origin: drf_method_ordered
    serializer_class = serializers.OrderedTagsBookSerializer


class SharedLoans(generics.ListAPIView[Loan]):
    queryset = Loan.objects.order_by("id")  # origin: drf_shared
    serializer_class = serializers.LoanBooksSerializer


class _Pages(pagination.PageNumberPagination):
    page_size = 10


class WrappedTagIdBooks(generics.ListAPIView[Book]):
    """A view that writes its own list(): the paginator runs the query, the view asks for
    `serializer.data`; neither line is where the rows' queryset or the relation read is."""

    queryset = Book.objects.order_by("id")  # origin: drf_wrapped
    serializer_class = serializers.TagIdsBookSerializer
    pagination_class = _Pages

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class SessionEnrollments(generics.ListAPIView[Enrollment]):
    """Logged in by session: authenticating loads the user with the very statement
    `enrollment.student.user` runs per row, before any row is read."""

    authentication_classes = [SessionAuthentication]
    queryset = Enrollment.objects.order_by("id")  # origin: drf_source_chain
    serializer_class = serializers.EnrollmentSerializer


class StaffBranchEnrollments(generics.ListAPIView[Enrollment]):
    """The fix applied to the students' branch only: staff still get the class's queryset."""

    authentication_classes = [SessionAuthentication]
    queryset = Enrollment.objects.order_by("id")  # origin: drf_staff_branch
    serializer_class = serializers.EnrollmentSerializer

    def get_queryset(self) -> Any:
        if self.request.user.is_staff:
            return super().get_queryset()
        return Enrollment.objects.filter(student__user=self.request.user).select_related(
            "student__user"
        )
