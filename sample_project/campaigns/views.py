"""Campaigns of the advertiser's account and their payouts (seed 003)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers

from campaigns.models import Account, Campaign, CampaignPayout
from campaigns.serializers import CampaignPayoutSerializer, CampaignSerializer
from sample_project.variant import optimized


class Campaigns(generics.ListCreateAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        campaigns = Campaign.objects.filter(account__owner=self.request.user).order_by(
            "-created_at", "id"
        )
        if optimized():
            # seed 003's CampaignRepository.get_user_campaigns.
            campaigns = campaigns.select_related("account__owner").prefetch_related("payouts")
        return campaigns

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.save(account=get_object_or_404(Account, owner=self.request.user))


class CampaignPayouts(generics.ListCreateAPIView):
    serializer_class = CampaignPayoutSerializer

    @cached_property
    def campaign(self) -> Campaign:
        return get_object_or_404(Campaign, pk=self.kwargs["pk"], account__owner=self.request.user)

    def get_queryset(self) -> QuerySet[CampaignPayout]:
        payouts = CampaignPayout.objects.filter(campaign=self.campaign).order_by(
            "-created_at", "id"
        )
        if optimized():
            payouts = payouts.select_related("campaign", "approved_by")
        return payouts

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.save(campaign=self.campaign)
