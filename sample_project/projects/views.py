"""The project list: seed 000's "project list queries trigger 50+ database calls"."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet
from rest_framework import generics

from projects.models import Feedback, Project
from projects.serializers import ProjectSerializer
from sample_project.variant import optimized


class Projects(generics.ListAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self) -> QuerySet[Project]:
        projects = Project.objects.filter(manager=self.request.user).order_by("-created_at", "id")
        if optimized():
            open_feedback = Feedback.objects.filter(project=OuterRef("pk"), resolved=False)
            projects = (
                projects.select_related("manager")
                .prefetch_related("members")
                .annotate(
                    file_count=Count("files", distinct=True),
                    feedback_count=Count("feedback", distinct=True),
                    has_open_feedback=Exists(open_feedback),
                )
            )
        return projects
