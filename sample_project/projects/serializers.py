"""The project list row of seed 000: manager, members, file and feedback counts."""

from __future__ import annotations

from rest_framework import serializers

from projects.models import Project


class ProjectSerializer(serializers.ModelSerializer):
    manager = serializers.CharField(source="manager.username", read_only=True)
    members = serializers.SerializerMethodField()
    file_count = serializers.SerializerMethodField()
    feedback_count = serializers.SerializerMethodField()
    has_open_feedback = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "status",
            "manager",
            "members",
            "file_count",
            "feedback_count",
            "has_open_feedback",
            "created_at",
        ]

    def get_members(self, project: Project) -> list[str]:
        return sorted(member.username for member in project.members.all())

    def get_file_count(self, project: Project) -> int:
        if hasattr(project, "file_count"):
            return int(project.file_count)
        return project.files.count()

    def get_feedback_count(self, project: Project) -> int:
        if hasattr(project, "feedback_count"):
            return int(project.feedback_count)
        return project.feedback.count()

    def get_has_open_feedback(self, project: Project) -> bool:
        if hasattr(project, "has_open_feedback"):
            return bool(project.has_open_feedback)
        # A filter on a related manager: not even a prefetch would answer it.
        return project.feedback.filter(resolved=False).exists()
