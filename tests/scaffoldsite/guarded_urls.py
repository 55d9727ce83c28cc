"""Pages whose routes say nothing of what a GET does to the session or the data: the probe sees
what each did, and what every page does is the site's."""

from __future__ import annotations

from django.urls import path

from tests.scaffoldsite import views

urlpatterns = [
    path("api/whoami/", views.with_visit(views.WhoAmI.as_view())),
    path("sessions/end/", views.with_visit(views.sessions_end)),
    path("members/", views.with_visit(views.members_only)),
    path("authors/<int:pk>/name/", views.with_visit(views.rename_author)),
    path("revisions/again/", views.DeleteRevision.as_view()),
    path("to-page/", views.with_visit(views.to_page)),
    path("touch/", views.with_visit(views.touch)),
    path("forecast/", views.with_visit(views.forecast)),
]
