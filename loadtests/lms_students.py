"""Students of the LMS: browse the catalog, open courses, read reviews, check their own records.

manage.py perf_audit --profile lms_students
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)
from locust import task

from _sample import SampleUser


class StudentUser(SampleUser):
    role = "student"
    weight = 6

    def on_start(self):
        super().on_start()
        self.courses = self.ids("/api/courses/", "/api/courses/")
        self.enrolled = self.ids(
            "/api/enrollments/?status=active", "/api/enrollments/", key="course"
        )

    @task(5)
    def browse_catalog(self):
        self.client.get("/api/courses/", name="/api/courses/")

    @task(4)
    def open_course(self):
        if course := self.pick(self.courses):
            self.client.get(f"/api/courses/{course}/", name="/api/courses/<int:pk>/")

    @task(2)
    def read_reviews(self):
        if course := self.pick(self.courses):
            self.client.get(
                f"/api/courses/{course}/reviews/", name="/api/courses/<int:pk>/reviews/"
            )

    @task(2)
    def view_profile(self):
        self.client.get("/api/auth/profile/", name="/api/auth/profile/")

    @task(2)
    def check_enrollment(self):
        if course := self.pick(self.enrolled):
            self.client.get(
                f"/api/enrollments/?course={course}&status=active", name="/api/enrollments/"
            )

    @task(1)
    def list_payments(self):
        self.client.get("/api/payments/?status=succeeded", name="/api/payments/")

    @task(1)
    def browse_categories(self):
        self.client.get("/api/categories/", name="/api/categories/")

    @task(1)
    def enroll(self):
        # 400 when already enrolled: the API's answer, not a failure.
        if course := self.pick(self.courses):
            self.post_expecting(
                f"/api/courses/{course}/enroll/", "/api/courses/<int:pk>/enroll/", {}, 400
            )
