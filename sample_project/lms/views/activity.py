"""The lists seed 004's four missing indexes serve (the media queue, enrollments, payments)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, serializers

from lms.models import Enrollment, MediaFile, PaymentIntent
from lms.permissions import HasLMSPermission
from lms.serializers.activity import (
    EnrollmentSerializer,
    MediaFileSerializer,
    PaymentIntentSerializer,
)


class MediaFiles(generics.ListCreateAPIView):
    """The processing queue, oldest first: WHERE processing_status = ? ORDER BY created_at."""

    serializer_class = MediaFileSerializer
    permission_classes = [HasLMSPermission]
    required_permissions = {"GET": "view_mediafile", "POST": "add_mediafile"}

    def get_queryset(self) -> QuerySet[MediaFile]:
        media = MediaFile.objects.select_related("owner").order_by("created_at")
        if status := self.request.query_params.get("status"):
            media = media.filter(processing_status=status)
        return media

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        # seed 004 media_library/views.py:195-230: accept at once, process in the background.
        serializer.save(owner=self.request.user, processing_status="pending")


class Enrollments(generics.ListAPIView):
    """The user's enrollments: WHERE user_id = ? AND course_id = ? AND status = ?."""

    serializer_class = EnrollmentSerializer
    permission_classes = [HasLMSPermission]
    required_permissions = {"GET": "view_enrollment"}

    def get_queryset(self) -> QuerySet[Enrollment]:
        enrollments = Enrollment.objects.filter(user=self.request.user)
        if course := self.request.query_params.get("course"):
            enrollments = enrollments.filter(course=int_param(course))
        if status := self.request.query_params.get("status"):
            enrollments = enrollments.filter(status=status)
        return enrollments.select_related("course").order_by("id")


class Payments(generics.ListAPIView):
    """The user's payment intents: WHERE user_id = ? AND payment_status = ?."""

    serializer_class = PaymentIntentSerializer
    permission_classes = [HasLMSPermission]
    required_permissions = {"GET": "view_paymentintent"}

    def get_queryset(self) -> QuerySet[PaymentIntent]:
        payments = PaymentIntent.objects.filter(user=self.request.user)
        if status := self.request.query_params.get("status"):
            payments = payments.filter(payment_status=status)
        return payments.order_by("id")


def int_param(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise serializers.ValidationError({"course": "A course id is a number."}) from None
