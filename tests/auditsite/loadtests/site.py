import locust  # noqa: F401  (first, so gevent patches before anything else is imported)
from locust import HttpUser, constant, task


class SiteUser(HttpUser):
    """Every endpoint of the test site; short waits so a few seconds give a few hundred requests."""

    wait_time = constant(0.02)

    @task(3)
    def items(self):
        self.client.get("/items/")

    @task(2)
    def item_unnamed(self):
        # No name: the audit resolves /items/3/ through the URLconf.
        self.client.get("/items/3/")

    @task
    def item_named(self):
        self.client.get("/items/4/?x=1", name="/items/<int:pk>/")

    @task
    def cached(self):
        self.client.get("/cached/")
