"""DRF permission classes of the LMS API."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from lms.access import get_user_auth_context
from lms.models import Enrollment


class HasLMSPermission(BasePermission):
    """The user holds `view.required_permissions[method]` (a permission codename) through a role.

    seed 004: loads the user's roles and permissions on every request; see lms/access.py.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            return False
        context = get_user_auth_context(request.user)
        needed = getattr(view, "required_permissions", {}).get(request.method)
        return needed is None or needed in context.permissions


class IsEnrolledToWrite(BasePermission):
    """Reads are public; writes need an active enrollment in the course of the URL.

    The enrollment lookup filters on user, course and status: seed 004's idx_enrollment_active.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not HasLMSPermission().has_permission(request, view):
            return False
        return is_enrolled(request.user.pk, view.kwargs["pk"])


def is_enrolled(user_id: Any, course_id: Any) -> bool:
    return Enrollment.objects.filter(user=user_id, course=course_id, status="active").exists()
