from __future__ import annotations

from django.urls import include, path, re_path

from tests import libraryviews, views

urlpatterns = [
    path("corpus/", include("tests.corpus.urls")),
    path("shop/", include("tests.shop.urls")),
    path("tagged/", include("tests.tagged.urls")),
    path("interop/", include("tests.interop.urls")),
    path("mw/three/", views.three_queries),
    path("mw/aliases/", views.two_aliases),
    path("mw/none/", views.no_queries),
    path("mw/echo/", views.echo_length),
    path("mw/whoami/", views.whoami),
    path("mw/visits/", views.visits),
    path("mw/reads-session/", views.reads_session),
    path("mw/csrf-token/", views.csrf_token),
    path("mw/flash/", views.flash),
    path("mw/clock/", views.clock),
    path("mw/stylesheets/", views.stylesheets),
    path("mw/async/", views.async_queries),
    path("mw/failing/", views.failing),
    re_path(r"^mw/regex/(?P<pk>[0-9]+)/$", views.by_pk),
    path("mw/lookup/", views.lookup),
    path("mw/cached/", views.cached),
    path("mw/everything/", views.everything),
    path("mw/library/", libraryviews.library_count),
    path("static/skip/", views.three_queries),
]
