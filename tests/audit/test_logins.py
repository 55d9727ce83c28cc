"""The login a scaffolded profile carries: a session made on the project's database, when the
project runs Django's session and authentication middleware or its own subclasses of them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import override_settings

from perftoolkit.audit.logins import login_for
from perftoolkit.exceptions import ConfigurationError

pytestmark = pytest.mark.django_db


class ProjectSessions(SessionMiddleware):
    """A project's own session middleware (pretalx has one): still Django's sessions."""


AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
REST = {"DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"]}


@override_settings(MIDDLEWARE=[f"{__name__}.ProjectSessions", AUTH], REST_FRAMEWORK=REST)
def test_a_subclass_of_djangos_session_middleware_gives_a_session_login() -> None:
    user = User.objects.create_user("ann")
    login = login_for(user)
    [(name, key)] = login.cookies
    assert name == settings.SESSION_COOKIE_NAME
    assert SessionStore(key).get(SESSION_KEY) == str(user.pk)
    assert login.description == "a session cookie created for ann on this database"


@override_settings(MIDDLEWARE=[AUTH], REST_FRAMEWORK=REST)
def test_without_session_middleware_a_user_cannot_be_logged_in() -> None:
    with pytest.raises(ConfigurationError, match="no session middleware"):
        login_for(User.objects.create_user("ann"))
