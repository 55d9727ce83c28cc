from __future__ import annotations

from django.urls import path

from campaigns import views

urlpatterns = [
    path("campaigns/", views.Campaigns.as_view(), name="campaigns"),
    path("campaigns/<int:pk>/payouts/", views.CampaignPayouts.as_view(), name="campaign-payouts"),
]
