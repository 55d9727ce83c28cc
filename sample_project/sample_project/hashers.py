"""A cheap password hash for the sample project's demo accounts.

Every seeded account shares the public password `password`; with Django's default PBKDF2 work
factor a token login costs seconds on a small machine, and logins would then dominate the audit's
latency figures instead of the endpoints under study. Never copy this into a real project.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class DemoPasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
