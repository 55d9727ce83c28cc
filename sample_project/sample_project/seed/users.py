"""Users, roles, profiles and subscriptions: admin1, studentN, instructorN, advertiserN, managerN."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission, User

from lms.models import Plan, Subscription, UserProfile
from sample_project.seed.base import PASSWORD, Size, ago, bulk, unique_offsets

FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Ema", "Farid", "Gus", "Hana", "Ines", "Jun", "Kofi"]
LAST_NAMES = ["Alvarez", "Brown", "Chen", "Dubois", "Eze", "Fischer", "Garcia", "Haddad", "Ito"]

STUDENT_PERMISSIONS = [
    "lms.view_course",
    "lms.view_enrollment",
    "lms.add_enrollment",
    "lms.add_coursereview",
    "lms.view_paymentintent",
    "lms.view_userprofile",
]
ROLE_PERMISSIONS = {
    "student": STUDENT_PERMISSIONS,
    "instructor": [
        *STUDENT_PERMISSIONS,
        "lms.view_dashboard",
        "lms.view_mediafile",
        "lms.add_mediafile",
    ],
    "admin": ["lms.*"],
    "advertiser": [
        "campaigns.view_campaign",
        "campaigns.add_campaign",
        "campaigns.view_campaignpayout",
        "campaigns.add_campaignpayout",
        "lms.view_userprofile",
    ],
    "manager": ["projects.view_project", "lms.view_userprofile"],
}
PLANS = [("free", "Free", 10, "0.00"), ("pro", "Pro", 100, "19.00"), ("team", "Team", 500, "49.00")]


@dataclass
class People:
    """The seeded users by role, in creation order (index 0 is student1, instructor1, ...)."""

    admin: User
    students: list[User] = field(default_factory=list)
    instructors: list[User] = field(default_factory=list)
    advertisers: list[User] = field(default_factory=list)
    managers: list[User] = field(default_factory=list)


def seed_users(rng: random.Random, size: Size) -> People:
    roles = seed_roles()
    password = make_password(PASSWORD)  # hashing is slow on purpose: once, not per user
    counts = {
        "student": size.students,
        "instructor": size.instructors,
        "advertiser": size.advertisers,
        "manager": size.managers,
    }
    specs = [("admin1", "admin")] + [
        (f"{role}{n}", role) for role, count in counts.items() for n in range(1, count + 1)
    ]
    joined = unique_offsets(rng, len(specs))
    users = bulk(
        User,
        [
            User(
                username=username,
                email=f"{username}@example.com",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                password=password,
                is_staff=role == "admin",
                date_joined=ago(minutes=joined[i] + 60 * 24 * 400),
            )
            for i, (username, role) in enumerate(specs)
        ],
    )
    bulk(
        User.groups.through,
        [
            User.groups.through(user_id=user.pk, group_id=roles[role].pk)
            for user, (_, role) in zip(users, specs, strict=True)
        ],
    )
    # One student in ten never logged in; the first ten and every other role always have.
    never = [
        role == "student" and i > 10 and rng.random() < 0.1 for i, (_, role) in enumerate(specs)
    ]
    seed_profiles(rng, users, never)
    people = People(admin=users[0])
    for user, (_, role) in zip(users[1:], specs[1:], strict=True):
        getattr(people, f"{role}s").append(user)
    return people


def seed_roles() -> dict[str, Group]:
    """One group per role with its permissions (the permission rows come from migrate)."""
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    groups = {}
    for role, wanted in ROLE_PERMISSIONS.items():
        group = Group.objects.create(name=role)
        if wanted == ["lms.*"]:
            wanted = sorted(name for name in by_name if name.startswith("lms."))
        group.permissions.set([by_name[name] for name in wanted])
        groups[role] = group
    return groups


def seed_profiles(rng: random.Random, users: list[User], never_logged_in: list[bool]) -> None:
    plans = bulk(
        Plan,
        [
            Plan(code=code, name=name, daily_ai_limit=limit, monthly_price=price)
            for code, name, limit, price in PLANS
        ],
    )
    logins = unique_offsets(rng, len(users))
    profiles = bulk(
        UserProfile,
        [
            UserProfile(
                user=user,
                display_name=f"{user.first_name} {user.last_name}",
                bio=f"{user.first_name} learns and teaches on the platform.",
                last_login=None if never_logged_in[i] else ago(minutes=logins[i]),
                created_at=user.date_joined,
            )
            for i, user in enumerate(users)
        ],
    )
    bulk(
        Subscription,
        [
            Subscription(
                profile=profile,
                plan=rng.choices(plans, weights=[6, 3, 1])[0],
                started_at=profile.created_at,
                ai_usage_today=rng.randint(0, 20),
                usage_reset_on=ago(days=rng.randint(0, 3)).date(),
            )
            for profile in profiles
        ],
    )
