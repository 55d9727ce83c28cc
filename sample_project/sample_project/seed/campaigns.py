"""Seed 003's advertisers: accounts, campaigns, payouts."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import User

from campaigns.models import Account, Campaign, CampaignPayout
from sample_project.seed.base import FIRST_USER_ROWS, Size, ago, bulk

COMPANIES = ["Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
PUBLISHERS = ["pixel-daily", "streamhub", "newsbeat", "podworks", "clipcast", "blogroll"]


def seed_campaigns(rng: random.Random, size: Size, advertisers: list[User]) -> None:
    accounts = bulk(
        Account,
        [
            Account(
                owner=owner,
                name=f"{COMPANIES[i % len(COMPANIES)]} Media {i + 1}",
                balance=Decimal(rng.randint(1_000, 90_000)),
                created_at=owner.date_joined,
            )
            for i, owner in enumerate(advertisers)
        ],
    )
    rows = []
    for i, account in enumerate(accounts):
        for _ in range(FIRST_USER_ROWS if i == 0 else size.campaigns_per_advertiser):
            k = len(rows) + 1
            rows.append(
                Campaign(
                    account=account,
                    name=f"{rng.choice(['Spring', 'Summer', 'Launch', 'Holiday'])} push {k}",
                    status=rng.choice(["draft", "active", "active", "paused", "finished"]),
                    budget=Decimal(rng.randint(5, 500) * 100),
                    starts_on=(ago(days=rng.randint(0, 120))).date(),
                    created_at=ago(hours=5 * k),
                )
            )
    campaigns = bulk(Campaign, rows)
    payouts = []
    for campaign in campaigns:
        first = campaign.account_id == accounts[0].pk
        for n in range(FIRST_USER_ROWS if first else size.payouts_per_campaign):
            status = rng.choice(["pending", "approved", "paid", "paid"])
            payouts.append(
                CampaignPayout(
                    campaign=campaign,
                    recipient=rng.choice(PUBLISHERS),
                    amount=Decimal(rng.randint(500, 90_000)) / 100,
                    status=status,
                    approved_by=None if status == "pending" else campaign.account.owner,
                    created_at=campaign.created_at + datetime.timedelta(minutes=n + 1),
                )
            )
    bulk(CampaignPayout, payouts)
