"""`seed_sample`: the same rows on every run and every database, for a given size."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import User
from django.db import transaction

from sample_project.seed.base import SIZES, new_random
from sample_project.seed.campaigns import seed_campaigns
from sample_project.seed.learning import seed_learning
from sample_project.seed.projects import seed_projects
from sample_project.seed.users import seed_users

SAMPLE_APPS = ("auth", "lms", "campaigns", "projects")

__all__ = ["SIZES", "is_seeded", "row_counts", "seed"]


def is_seeded() -> bool:
    return User.objects.filter(username="admin1").exists()


def seed(size_name: str) -> None:
    """Fill an empty, migrated database with the `size_name` data set."""
    size = SIZES[size_name]
    rng = new_random()
    with transaction.atomic():
        people = seed_users(rng, size)
        seed_learning(rng, size, people)
        seed_campaigns(rng, size, people.advertisers)
        # Project crews are drawn from the first students so every size has the same shape.
        seed_projects(rng, size, people.managers, people.students[:200])


def row_counts() -> dict[str, int]:
    """Rows per model of the sample's apps (through tables left out)."""
    return {
        model._meta.label: model.objects.count()
        for app in SAMPLE_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.label not in ("auth.Permission",)
    }
