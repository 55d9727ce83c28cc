from __future__ import annotations

from django.urls import path

from tests.shop import views

urlpatterns = [
    path("queue/", views.queue),
    path("mine/", views.mine),
    path("recent/", views.recent),
    path("orders-of/", views.orders_of),
]
