"""Profiles and subscriptions (seed 004, `accounts/models.py`)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from lms.indexes import seed004_indexes
from sample_project.variant import optimized


class Plan(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=50)
    daily_ai_limit = models.PositiveIntegerField()
    monthly_price = models.DecimalField(max_digits=8, decimal_places=2)

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=100)
    bio = models.TextField(blank=True)
    time_zone = models.CharField(max_length=40, default="UTC")
    # The platform's own activity timestamp, set by the login endpoint (not auth_user.last_login).
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = seed004_indexes("userprofile")

    def __str__(self) -> str:
        return self.display_name

    @property
    def subscription_plan(self) -> str:
        # seed 004: hasattr() runs a query for the subscription, then the plan costs another,
        # unless the caller loaded both with select_related("subscription__plan").
        if hasattr(self, "subscription"):
            return self.subscription.plan.code
        return "free"

    @property
    def ai_daily_limit(self) -> int:
        if hasattr(self, "subscription"):
            return self.subscription.plan.daily_ai_limit
        return 0

    @property
    def ai_usage_today(self) -> int:
        if not hasattr(self, "subscription"):
            return 0
        if optimized():
            return self.subscription.usage_on(timezone.localdate())
        # seed 004: "DB write on property access!" — an UPDATE on every profile read.
        self.subscription.reset_daily_usage()
        return self.subscription.ai_usage_today


class Subscription(models.Model):
    STATUSES = [("active", "Active"), ("cancelled", "Cancelled")]

    profile = models.OneToOneField(
        UserProfile, on_delete=models.CASCADE, related_name="subscription"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=STATUSES, default="active")
    started_at = models.DateTimeField(default=timezone.now)
    # Daily AI-assistant counter; the day it counts for is usage_reset_on.
    ai_usage_today = models.PositiveIntegerField(default=0)
    usage_reset_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.plan_id} subscription of profile {self.profile_id}"

    def usage_on(self, day: datetime.date) -> int:
        """The AI usage counted for `day`, without touching the row."""
        return self.ai_usage_today if self.usage_reset_on == day else 0

    def reset_daily_usage(self) -> None:
        """Start a new day's count if the stored one is stale; saves in any case (as seeded)."""
        today = timezone.localdate()
        if self.usage_reset_on != today:
            self.ai_usage_today = 0
            self.usage_reset_on = today
        self.save(update_fields=["ai_usage_today", "usage_reset_on"])
