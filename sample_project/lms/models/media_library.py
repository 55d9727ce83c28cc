"""Uploaded media and their processing queue (seed 004's media_library app)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from lms.indexes import seed004_indexes


class MediaFile(models.Model):
    STATUSES = [
        ("pending", "Pending"),
        ("processing", "Processing"),
        ("ready", "Ready"),
        ("failed", "Failed"),
    ]

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media_files"
    )
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.BigIntegerField()
    processing_status = models.CharField(max_length=20, choices=STATUSES, default="pending")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = seed004_indexes("mediafile")

    def __str__(self) -> str:
        return self.file_name
