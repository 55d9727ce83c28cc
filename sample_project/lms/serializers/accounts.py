"""Profile serializers (seed 004: "5-10 extra queries per user profile serialization")."""

from __future__ import annotations

from rest_framework import serializers

from lms.access import get_user_auth_context
from lms.models import UserProfile


class ProfileSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    # Model properties: each hides queries (and ai_usage_today a write) in `before`.
    subscription_plan = serializers.ReadOnlyField()
    ai_usage_today = serializers.ReadOnlyField()
    ai_daily_limit = serializers.ReadOnlyField()
    roles = serializers.SerializerMethodField()

    class Meta:
        model = UserProfile
        fields = [
            "id",
            "username",
            "email",
            "display_name",
            "bio",
            "time_zone",
            "last_login",
            "subscription_plan",
            "ai_usage_today",
            "ai_daily_limit",
            "roles",
        ]

    def get_roles(self, profile: UserProfile) -> list[str]:
        # The permission check of this request loaded the roles already; asking again repeats
        # the same two queries in `before` and hits the cache in `after`.
        return sorted(get_user_auth_context(self.context["request"].user).roles)


class RecentUserSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = UserProfile
        fields = ["id", "username", "display_name", "last_login"]
