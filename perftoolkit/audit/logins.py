"""How a scaffolded profile logs in as a user, the way the project authenticates.

No password is needed: the credential is created for the user on the project's database, as
Django's test client does. A session cookie (sessions and the authentication middleware
installed) serves server-rendered pages and DRF's SessionAuthentication; when DRF authenticates
otherwise, a DRF token (`rest_framework.authtoken`) or a JWT (djangorestframework-simplejwt) is sent
too. With `writes`, the session also gets a CSRF cookie and header, which Django checks on POST.
"""

from __future__ import annotations

import datetime
import os
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.crypto import get_random_string

from perftoolkit.conf import middleware_installed
from perftoolkit.core.runs.profiles import ProfileLogin
from perftoolkit.exceptions import ConfigurationError

JWT_LIFETIME = datetime.timedelta(days=7)
_SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def project_settings() -> str:
    """The settings module's name (override_settings hides it; the environment still names it)."""
    return str(settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", ""))


def find_user(username: str) -> Any:
    """The user whose `USERNAME_FIELD` is `username`, or a ConfigurationError saying so."""
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        raise ConfigurationError(
            f"--user {username}: no {model._meta.label} has {model.USERNAME_FIELD} "
            f"{username!r} in the database of {project_settings()}. Give an existing "
            "user (one with the permissions the pages need), or leave out --user to request "
            "the pages anonymously."
        ) from None


def default_user() -> Any:
    """The first active superuser, else staff user (an audit sees the most pages as one), or
    None."""
    model = get_user_model()
    fields = {f.name for f in model._meta.get_fields()}
    users = model._default_manager.order_by("pk")
    if "is_active" in fields:
        users = users.filter(is_active=True)
    for flag in ("is_superuser", "is_staff"):
        if flag in fields:
            found = users.filter(**{flag: True}).first()
            if found is not None:
                return found
    return None


def login_for(user: Any, *, writes: bool = False) -> ProfileLogin:
    """The cookies and headers that authenticate `user` (anonymous when None)."""
    if user is None:
        return ProfileLogin("nobody (anonymous requests); pass --user to log in as someone")
    username = str(user.get_username())
    cookies: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    ways: list[str] = []
    session = _session_available()
    if session:
        csrf = get_random_string(32) if writes else None
        cookies.append((settings.SESSION_COOKIE_NAME, _session_key(user, csrf)))
        ways.append(f"a session cookie created for {username} on this database")
        if csrf is not None:
            if not settings.CSRF_USE_SESSIONS:
                cookies.append((settings.CSRF_COOKIE_NAME, csrf))
            headers.append((_header(settings.CSRF_HEADER_NAME), csrf))
    api = _api_credential(user, session_accepted=session)
    if api is not None:
        headers.append(api[0])
        ways.append(api[1])
    if not ways:
        raise ConfigurationError(
            f"--user {username}: the project has no way to log in that a load test can use "
            "(no session middleware, and DRF has no token or JWT authentication). Leave out "
            "--user and add the login to the profile yourself."
        )
    return ProfileLogin(
        " and ".join(ways), username=username, cookies=tuple(cookies), headers=tuple(headers)
    )


def can_log_in() -> bool:
    """Whether a profile can log in at all (a session, or DRF's token or JWT authentication)."""
    if _session_available():
        return True
    if not apps.is_installed("rest_framework"):
        return False
    from rest_framework.settings import api_settings

    configured: Any = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    return any(
        c.__name__ == "TokenAuthentication"
        and apps.is_installed("rest_framework.authtoken")
        or c.__module__.startswith("rest_framework_simplejwt.")
        for c in configured
    )


def _session_available() -> bool:
    return (
        apps.is_installed("django.contrib.sessions")
        and middleware_installed(_SESSION_MIDDLEWARE)
        and middleware_installed(_AUTH_MIDDLEWARE)
    )


def _session_key(user: Any, csrf: str | None) -> str:
    """A saved session logged in as `user` (what `django.test.Client.force_login` does), with
    the CSRF secret in it when the project keeps it there (CSRF_USE_SESSIONS)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import CSRF_SESSION_KEY

    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = _backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if csrf is not None and settings.CSRF_USE_SESSIONS:
        session[CSRF_SESSION_KEY] = csrf
    session.save()
    return str(session.session_key)


def _backend() -> str:
    """The first authentication backend that can load a user (as the test client picks it: a
    backend that only authenticates, like django-axes', cannot serve a session)."""
    from django.contrib.auth import load_backend

    for path in settings.AUTHENTICATION_BACKENDS:
        if hasattr(load_backend(path), "get_user"):
            return str(path)
    return str(settings.AUTHENTICATION_BACKENDS[0])


def _api_credential(user: Any, *, session_accepted: bool) -> tuple[tuple[str, str], str] | None:
    """A DRF token or JWT header, when DRF authenticates that way and not by session."""
    if not apps.is_installed("rest_framework"):
        return None
    from rest_framework.settings import api_settings

    configured: Any = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    classes = [f"{c.__module__}.{c.__qualname__}" for c in configured]
    if session_accepted and any(c.endswith(".SessionAuthentication") for c in classes):
        return None
    for dotted in classes:
        if dotted.startswith("rest_framework_simplejwt.") and "JWT" in dotted:
            return _jwt(user)
        if dotted == "rest_framework.authentication.TokenAuthentication" and apps.is_installed(
            "rest_framework.authtoken"
        ):
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            username = user.get_username()
            return ("Authorization", f"Token {token.key}"), f"the DRF token of {username}"
    return None


def _jwt(user: Any) -> tuple[tuple[str, str], str]:
    from rest_framework_simplejwt.settings import api_settings as jwt_settings
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=JWT_LIFETIME)
    header = _header(jwt_settings.AUTH_HEADER_NAME)
    kind = jwt_settings.AUTH_HEADER_TYPES[0]
    return (header, f"{kind} {token}"), (
        f"a JWT access token for {user.get_username()}, valid {JWT_LIFETIME.days} days"
    )


def _header(meta_name: str) -> str:
    """`HTTP_X_CSRFTOKEN` (how Django names a header in request.META) → `X-Csrftoken`."""
    name = meta_name.removeprefix("HTTP_")
    return "-".join(part.capitalize() for part in name.split("_"))
