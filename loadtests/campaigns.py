"""Advertisers: their campaigns, each campaign's payouts, new campaigns and payouts.

manage.py perf_audit --profile campaigns
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)
from locust import task

import itertools

from _sample import SampleUser

_serial = itertools.count(1)


class AdvertiserUser(SampleUser):
    role = "advertiser"
    weight = 2

    def on_start(self):
        super().on_start()
        self.campaigns = self.ids("/api/campaigns/", "/api/campaigns/")

    @task(5)
    def list_campaigns(self):
        self.client.get("/api/campaigns/", name="/api/campaigns/")

    @task(4)
    def list_payouts(self):
        if campaign := self.pick(self.campaigns):
            self.client.get(
                f"/api/campaigns/{campaign}/payouts/", name="/api/campaigns/<int:pk>/payouts/"
            )

    @task(1)
    def create_campaign(self):
        n = next(_serial)
        data = {
            "name": f"Load {n}",
            "status": "draft",
            "budget": "500.00",
            "starts_on": "2025-03-01",
        }
        self.post_expecting("/api/campaigns/", "/api/campaigns/", data)

    @task(1)
    def add_payout(self):
        if campaign := self.pick(self.campaigns):
            self.post_expecting(
                f"/api/campaigns/{campaign}/payouts/",
                "/api/campaigns/<int:pk>/payouts/",
                {"recipient": "newsbeat", "amount": "12.50"},
            )
