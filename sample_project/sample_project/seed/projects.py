"""Seed 000's video-collaboration projects: members, files, feedback."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import User

from projects.models import Feedback, Project, ProjectFile, ProjectMember
from sample_project.seed.base import FIRST_USER_ROWS, Size, ago, bulk

TITLES = ["Brand film", "Product teaser", "Onboarding series", "Event recap", "Interview cut"]
ROLES = ["editor", "reviewer", "producer", "client"]
NOTES = ["Cut the intro by 3 s.", "Colour looks off at 01:12.", "Approved.", "Music too loud."]


def seed_projects(rng: random.Random, size: Size, managers: list[User], crew: list[User]) -> None:
    rows = []
    for i, manager in enumerate(managers):
        for _ in range(FIRST_USER_ROWS if i == 0 else size.projects_per_manager):
            k = len(rows) + 1
            rows.append(
                Project(
                    name=f"{rng.choice(TITLES)} {k}",
                    description=f"Project {k} managed by {manager.username}.",
                    manager=manager,
                    status=rng.choice(["planning", "production", "review"]),
                    created_at=ago(hours=3 * k),
                )
            )
    projects = bulk(Project, rows)
    members, files, feedback = [], [], []
    for project in projects:
        team = rng.sample(crew, rng.randint(3, 5))
        members += [
            ProjectMember(
                project=project,
                user=user,
                role=rng.choice(ROLES),
                joined_at=project.created_at + datetime.timedelta(hours=1),
            )
            for user in team
        ]
        files += [
            ProjectFile(
                project=project,
                name=f"take-{project.pk}-{n}.mov",
                size_bytes=rng.randint(1_000_000, 8_000_000_000),
                uploaded_by=rng.choice(team),
                created_at=project.created_at + datetime.timedelta(hours=n + 2),
            )
            for n in range(rng.randint(2, 6))
        ]
        feedback += [
            Feedback(
                project=project,
                author=rng.choice(team),
                body=rng.choice(NOTES),
                resolved=rng.random() < 0.5,
                created_at=project.created_at + datetime.timedelta(days=n + 1),
            )
            for n in range(rng.randint(0, 4))
        ]
    bulk(ProjectMember, members)
    bulk(ProjectFile, files)
    bulk(Feedback, feedback)
