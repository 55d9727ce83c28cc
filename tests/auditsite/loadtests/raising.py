"""A profile with a bug: every other task reads a key the response does not have, so Locust's
task raises (a KeyError Locust keeps in locust_exceptions.csv, not in its request statistics)."""

import locust  # noqa: F401  (first, so gevent patches before anything else is imported)
from locust import HttpUser, constant, task


class RaisingUser(HttpUser):
    wait_time = constant(0.05)

    @task
    def items(self):
        self.client.get("/items/")

    @task
    def misread(self):
        response = self.client.get("/items/3/")
        return response.json()["missing"]
