"""Project managers: the project list with members, files and feedback.

manage.py perf_audit --profile projects
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)
from locust import task

from _sample import SampleUser


class ManagerUser(SampleUser):
    role = "manager"
    weight = 1

    @task
    def list_projects(self):
        self.client.get("/api/projects/", name="/api/projects/")
