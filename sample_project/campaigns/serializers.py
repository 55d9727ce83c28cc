"""Seed 003: "Potential N+1 query problems in serializers"."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from campaigns.models import Campaign, CampaignPayout


class CampaignSerializer(serializers.ModelSerializer):
    # __str__ of Account reads its owner: two queries per row unless loaded with the campaign.
    account = serializers.StringRelatedField(read_only=True)
    payout_count = serializers.SerializerMethodField()
    total_paid = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "budget",
            "starts_on",
            "account",
            "payout_count",
            "total_paid",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_payout_count(self, campaign: Campaign) -> int:
        return campaign.payouts.count()  # answered from prefetched payouts when present

    def get_total_paid(self, campaign: Campaign) -> str:
        paid = sum(
            (p.amount for p in campaign.payouts.all() if p.status == "paid"), start=Decimal(0)
        )
        return f"{paid:.2f}"


class CampaignPayoutSerializer(serializers.ModelSerializer):
    campaign = serializers.CharField(source="campaign.name", read_only=True)
    approved_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = CampaignPayout
        fields = ["id", "campaign", "recipient", "amount", "status", "approved_by", "created_at"]
        read_only_fields = ["status", "created_at"]

    def validate_amount(self, value: Decimal) -> Decimal:
        if value <= 0:
            raise serializers.ValidationError("A payout is a positive amount.")
        return value
