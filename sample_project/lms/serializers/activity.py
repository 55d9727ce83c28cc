"""Enrollments, payments and media: the lists seed 004's missing indexes serve."""

from __future__ import annotations

from rest_framework import serializers

from lms.models import Enrollment, MediaFile, PaymentIntent


class EnrollmentSerializer(serializers.ModelSerializer):
    course_title = serializers.CharField(source="course.title", read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "course",
            "course_title",
            "status",
            "progress",
            "payment_amount",
            "enrolled_at",
        ]
        read_only_fields = fields


class PaymentIntentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentIntent
        fields = [
            "id",
            "course",
            "amount",
            "currency",
            "payment_status",
            "provider_reference",
            "created_at",
        ]
        read_only_fields = fields


class MediaFileSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = MediaFile
        fields = [
            "id",
            "owner",
            "file_name",
            "content_type",
            "size_bytes",
            "processing_status",
            "created_at",
        ]
        read_only_fields = ["processing_status", "created_at"]

    def validate_size_bytes(self, value: int) -> int:
        if value <= 0:
            raise serializers.ValidationError("An upload has at least one byte.")
        return value
