"""A profile where one request in three fails: /missing/ answers 404, which Locust counts as a
failure."""

import locust  # noqa: F401  (first, so gevent patches before anything else is imported)
from locust import HttpUser, constant, task


class FailingUser(HttpUser):
    wait_time = constant(0.05)

    @task(2)
    def items(self):
        self.client.get("/items/")

    @task
    def missing(self):
        self.client.get("/missing/")
