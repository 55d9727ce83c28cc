"""Roles and permissions of a user, looked up on every authenticated LMS request.

seed 004 (`app/middleware/supabase_auth.py`): "2 separate queries per request", the permission
check adding 100-300 ms to every request; the fix is one query whose result is cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed

from sample_project.variant import optimized

AUTH_CONTEXT_TTL = 1800  # seed 004: "5-30 minute TTL for frequently accessed data"


@dataclass(frozen=True)
class AuthContext:
    roles: frozenset[str]
    permissions: frozenset[str]


def get_user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    return frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True))


def get_user_permissions(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    return frozenset(
        Permission.objects.filter(group__user=user.pk).values_list("codename", flat=True)
    )


def get_user_auth_context(user: AbstractBaseUser | AnonymousUser) -> AuthContext:
    """Roles and permission codenames of `user` (none for anonymous users).

    In `after`: one query (groups LEFT JOIN their permissions) on a cache miss, none on a hit.
    """
    if not user.is_authenticated:
        return AuthContext(frozenset(), frozenset())
    if not optimized():
        # seed 004: two queries, and again for every caller in the same request.
        return AuthContext(roles=get_user_roles(user), permissions=get_user_permissions(user))
    key = auth_context_key(user.pk)
    context = cache.get(key)
    if context is None:
        rows = list(Group.objects.filter(user=user.pk).values_list("name", "permissions__codename"))
        context = AuthContext(
            roles=frozenset(name for name, _ in rows),
            permissions=frozenset(codename for _, codename in rows if codename),
        )
        cache.set(key, context, AUTH_CONTEXT_TTL)
    return context


def auth_context_key(user_id: Any) -> str:
    return f"lms:auth-context:{user_id}"


def _forget_auth_context(
    sender: Any, instance: Any, action: str, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    """Drop the cached contexts of the users a role or permission change touches."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    user_ids: Iterable[Any]
    if sender is Group.permissions.through:
        groups = [instance.pk] if isinstance(instance, Group) else list(pk_set or ())
        if action == "pre_clear" and not isinstance(instance, Group):
            groups = list(instance.group_set.values_list("pk", flat=True))
        user_ids = get_user_model().objects.filter(groups__in=groups).values_list("pk", flat=True)
    elif isinstance(instance, Group):
        clearing = action == "pre_clear"
        user_ids = instance.user_set.values_list("pk", flat=True) if clearing else pk_set or ()
    else:
        user_ids = [instance.pk]
    cache.delete_many([auth_context_key(pk) for pk in user_ids])


def connect_signals() -> None:
    m2m_changed.connect(_forget_auth_context, sender=Group.user_set.through)
    m2m_changed.connect(_forget_auth_context, sender=Group.permissions.through)
