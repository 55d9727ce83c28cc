"""Login, the current user's profile and the recently active users."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import generics
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lms.models import UserProfile
from lms.permissions import HasLMSPermission
from lms.serializers.accounts import ProfileSerializer, RecentUserSerializer
from sample_project.variant import optimized


class Login(APIView):
    """username + password → `{"token": ...}` for `Authorization: Token <key>`."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        UserProfile.objects.filter(user=user).update(last_login=timezone.now())
        return Response({"token": token.key})


class Profile(generics.RetrieveAPIView):
    """Seed 004: `/auth/profile/` ran 8 queries, 2 once optimized."""

    serializer_class = ProfileSerializer
    permission_classes = [HasLMSPermission]
    required_permissions = {"GET": "view_userprofile"}

    def get_object(self) -> UserProfile:
        profiles = UserProfile.objects.filter(user=self.request.user)
        if optimized():
            profiles = profiles.select_related("user", "subscription__plan")
        return get_object_or_404(profiles)


class RecentUsers(generics.ListAPIView):
    """Profiles by last login, newest first: seed 004's idx_user_last_login serves it."""

    serializer_class = RecentUserSerializer
    permission_classes = [IsAdminUser, HasLMSPermission]
    required_permissions = {"GET": "view_userprofile"}

    def get_queryset(self) -> QuerySet[UserProfile]:
        return (
            UserProfile.objects.filter(last_login__isnull=False)
            .select_related("user")
            .order_by("-last_login")
        )
