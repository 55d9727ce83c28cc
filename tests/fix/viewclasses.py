"""View classes whose source `view_target` reads: a base whose method reads the rows, and
views that say where their rows come from in three ways."""

from __future__ import annotations

from typing import Any


class SharedListView:
    model: Any = None
    queryset: Any = None

    def get_context_data(self, **kwargs: Any) -> list[Any]:
        context = {"object_list": self.get_queryset()}
        return [row.child for row in context["object_list"]]

    def get_queryset(self) -> Any:
        return self.queryset


class FeedingList(SharedListView):
    template_name = "feeding_list.html"
    model = "Feeding"


class NoteList(SharedListView):
    model = "Note"

    def get_queryset(self) -> Any:
        rows = super().get_queryset()
        return rows


class Unrelated:
    model = "Feeding"
