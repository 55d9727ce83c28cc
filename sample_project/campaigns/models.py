"""Seed 003's three models: Account, Campaign, CampaignPayout."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Account(models.Model):
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ad_account"
    )
    name = models.CharField(max_length=120)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # Reaches for the owner: one more query wherever an account is shown as a string.
        return f"{self.name} ({self.owner.username})"


class Campaign(models.Model):
    STATUSES = [
        ("draft", "Draft"),
        ("active", "Active"),
        ("paused", "Paused"),
        ("finished", "Finished"),
    ]

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=160)
    status = models.CharField(max_length=20, choices=STATUSES, default="draft")
    budget = models.DecimalField(max_digits=12, decimal_places=2)
    starts_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class CampaignPayout(models.Model):
    STATUSES = [("pending", "Pending"), ("approved", "Approved"), ("paid", "Paid")]

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="payouts")
    recipient = models.CharField(max_length=120)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=20, choices=STATUSES, default="pending")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approved_payouts",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.amount} to {self.recipient}"
