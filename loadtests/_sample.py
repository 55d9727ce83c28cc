"""What every profile of the sample project shares: token login and id discovery.

Not a profile itself (the leading underscore keeps it out of `--profile` names). Each request
is named by its route pattern, so Locust's numbers group per endpoint the way perftoolkit's do.
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)
from locust import HttpUser, between

import itertools
import random

PASSWORD = "password"
# Accounts of the smallest seed (`seed_sample --size small`); larger seeds have more of each.
POOLS = {"student": 40, "instructor": 4, "advertiser": 2, "manager": 2, "admin": 1}
_next = {role: itertools.count() for role in POOLS}


def account(role):
    """The next account of `role`, round robin: student1, student2, …"""
    return f"{role}{next(_next[role]) % POOLS[role] + 1}"


class SampleUser(HttpUser):
    """A logged-in user of the sample project; subclasses set `role` and their tasks."""

    abstract = True
    role = ""
    # People read a page before they click on: one to four seconds between requests.
    wait_time = between(1, 4)

    def on_start(self):
        self.username = account(self.role) if self.role else None
        if self.username:
            self.login(self.username)

    def login(self, username):
        with self.client.post(
            "/api/auth/login/",
            json={"username": username, "password": PASSWORD},
            name="/api/auth/login/",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"login as {username}: HTTP {response.status_code}")
                return
            self.client.headers["Authorization"] = f"Token {response.json()['token']}"

    def ids(self, path, name, key="id"):
        """`key` of every row a list endpoint returns (the first page)."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return []
            return [row[key] for row in response.json().get("results", [])]

    def pick(self, values):
        return random.choice(values) if values else None

    def post_expecting(self, path, name, data, *accepted):
        """POST where a refusal the API documents (e.g. already enrolled: 400) is not a failure."""
        with self.client.post(path, json=data, name=name, catch_response=True) as response:
            if response.status_code in (200, 201, *accepted):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
