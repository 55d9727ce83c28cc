from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests.scaffoldsite import views

router = DefaultRouter()
router.register("books", views.BookViewSet)
router.register("reviews", views.ReviewViewSet)

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/authors/<str:name>/", views.AuthorByName.as_view()),
    path("api/publishers/<int:publisher_pk>/books/", views.PublisherBooks.as_view()),
    path("api/ping/", views.Ping.as_view()),
    path("api/whoami/", views.WhoAmI.as_view()),
    path("tags/<int:pk>/", views.TagDetail.as_view()),
    path("countries/<int:country_pk>/", views.country_page),
    path("archive/<int:year>/<int:month>/", views.archive),
    path("plans/<int:id>/view/", views.plan_page),
    path("books/<int:pk>/<slug:slug>/", views.book_page),
    path("authors/<int:pk>/card/", views.author_card),
    path("pages/<int:page_id>/", views.ScriptPage.as_view()),
    path("sitemap-<section>.xml", views.sitemap, {"sitemaps": {"books": None, "tags": None}}),
    path("api/books/<int:book_pk>/notes/", views.BookNotes.as_view()),
    path("tags/<int:pk>/delete/", views.delete_tag),
    path("pin/", views.pin),
    path("mystery/<slug:token>/", views.mystery),
    path("logout/", views.logout),
    path("users/<int:pk>/login/", views.logout),  # logs in as that user: the session changes
]
