"""Every documented endpoint of the sample project once per user, in a fixed order, then stop.

Quick and deterministic: the profile `make demo` and the tests use to see every endpoint.

    manage.py perf_audit --profile smoke --users 1 --run-time 15s
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)
from locust import constant, task
from locust.exception import StopUser

from _sample import SampleUser


class SmokeUser(SampleUser):
    wait_time = constant(0)
    weight = 1

    def as_user(self, username):
        self.client.headers.pop("Authorization", None)
        if username:
            self.login(username)

    @task
    def every_endpoint_once(self):
        self.as_user("admin1")
        self.client.get("/api/users/recent/", name="/api/users/recent/")

        self.as_user(None)
        courses = self.ids("/api/courses/", "/api/courses/")
        course = courses[0] if courses else 1
        self.client.get(f"/api/courses/{course}/", name="/api/courses/<int:pk>/")
        self.client.get(f"/api/courses/{course}/reviews/", name="/api/courses/<int:pk>/reviews/")
        self.client.get("/api/categories/", name="/api/categories/")
        self.client.get("/catalog/", name="/catalog/")

        self.as_user("student1")
        self.client.get("/api/auth/profile/", name="/api/auth/profile/")
        enrolled = self.ids("/api/enrollments/?status=active", "/api/enrollments/", key="course")
        if enrolled:
            self.client.get(
                f"/api/enrollments/?course={enrolled[0]}&status=active", name="/api/enrollments/"
            )
        self.client.get("/api/payments/?status=succeeded", name="/api/payments/")
        self.post_expecting(
            f"/api/courses/{course}/enroll/", "/api/courses/<int:pk>/enroll/", {}, 400
        )
        if enrolled:
            self.post_expecting(
                f"/api/courses/{enrolled[0]}/reviews/",
                "/api/courses/<int:pk>/reviews/",
                {"rating": 4, "comment": "Clear and well paced."},
                400,
            )

        self.as_user("instructor1")
        self.client.get("/api/instructor/courses/", name="/api/instructor/courses/")
        self.client.get("/api/media/?status=pending", name="/api/media/")
        self.post_expecting(
            "/api/media/",
            "/api/media/",
            {"file_name": "smoke.mp4", "content_type": "video/mp4", "size_bytes": 2048},
        )

        self.as_user("advertiser1")
        campaigns = self.ids("/api/campaigns/", "/api/campaigns/")
        if campaigns:
            self.client.get(
                f"/api/campaigns/{campaigns[0]}/payouts/", name="/api/campaigns/<int:pk>/payouts/"
            )
            self.post_expecting(
                f"/api/campaigns/{campaigns[0]}/payouts/",
                "/api/campaigns/<int:pk>/payouts/",
                {"recipient": "newsbeat", "amount": "12.50"},
            )
        self.post_expecting(
            "/api/campaigns/",
            "/api/campaigns/",
            {"name": "Smoke", "status": "draft", "budget": "100.00", "starts_on": "2025-03-01"},
        )

        self.as_user("manager1")
        self.client.get("/api/projects/", name="/api/projects/")
        raise StopUser()
