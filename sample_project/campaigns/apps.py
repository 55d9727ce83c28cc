from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Seed 003: the campaign/payout server with N+1s in its serializers."""

    name = "campaigns"
