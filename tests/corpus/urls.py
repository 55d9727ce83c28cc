from __future__ import annotations

from django.urls import path

from tests.corpus import drf_views, views

_CASES = [
    "fk",
    "o2o_forward",
    "o2o_reverse",
    "m2m",
    "reverse_fk",
    "generic_fk",
    "generic_relation",
    "chain2",
    "chain3",
    "count",
    "exists",
    "filtered",
    "prefetch_bypassed",
    "partial_select",
    "prop",
    "dunder_str",
    "template_loop",
    "template_method",
    "template_tag",
    "eager_full",
    "bounded_loop",
    "bulk",
    "some_rows",
    "unused_select",
    "unused_prefetch",
    "unused_nested_select",
    "duplicate",
    "write_on_get",
    "nested_count",
    "nested_filtered",
    "nested_all",
    "join_lookup",
    "membership",
    "membership_joined",
    "membership_prefix",
    "membership_two_paths",
    "ordered_count",
    "ordered_set",
]

urlpatterns = [path(f"{name}/", getattr(views, name), name=name) for name in _CASES] + [
    path("detail/<int:pk>/", views.detail, name="detail"),
    path("list_view_model/", views.ListViewModel.as_view()),
    path("drf/nested/", drf_views.NestedBooks.as_view()),
    path("drf/m2m/", drf_views.TagIdBooks.as_view()),
    path("drf/dotted/", drf_views.DottedSourceBooks.as_view()),
    path("drf/string-related/", drf_views.StringRelatedReviews.as_view()),
    path("drf/method-count/", drf_views.MethodFieldBooks.as_view()),
    path("drf/lookup-exists/", drf_views.LookupBooks.as_view()),
    path("drf/wrapped/", drf_views.WrappedTagIdBooks.as_view()),
    path("drf/method-ordered/", drf_views.MethodOrderedTagBooks.as_view()),
]
