"""Payment intents (seed 004's payments app)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from lms.indexes import seed004_indexes
from lms.models.courses import Course


class PaymentIntent(models.Model):
    STATUSES = [
        ("pending", "Pending"),
        ("succeeded", "Succeeded"),
        ("failed", "Failed"),
        ("refunded", "Refunded"),
    ]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_intents"
    )
    course = models.ForeignKey(
        Course, on_delete=models.SET_NULL, null=True, blank=True, related_name="payment_intents"
    )
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, default="usd")
    payment_status = models.CharField(max_length=20, choices=STATUSES, default="pending")
    provider_reference = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = seed004_indexes("paymentintent")

    def __str__(self) -> str:
        return self.provider_reference
