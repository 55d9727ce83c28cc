"""A fixed amount of work, done early in the run: each user sends 80 requests and stops.

Locust rewrites its stats CSV every second, so once the users have stopped the CSV holds the
final numbers, the same ones its JSON has: what the percentile test compares against.
"""

import locust  # noqa: F401  (first, so gevent patches before anything else is imported)
from locust import HttpUser, constant, task
from locust.exception import StopUser


class FixedUser(HttpUser):
    wait_time = constant(0)

    @task
    def eighty_requests(self):
        for n in range(80):
            path = ("/items/", "/items/7/", "/cached/")[n % 3]
            self.client.get(path)
        raise StopUser()
