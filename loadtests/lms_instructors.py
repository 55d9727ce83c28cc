"""Instructors and staff of the LMS: the course dashboard, the media queue, recent users.

manage.py perf_audit --profile lms_instructors
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)
from locust import task

import itertools

from _sample import SampleUser

_uploads = itertools.count(1)


class InstructorUser(SampleUser):
    role = "instructor"
    weight = 2

    def on_start(self):
        super().on_start()
        self.courses = self.ids("/api/instructor/courses/", "/api/instructor/courses/")

    @task(5)
    def open_dashboard(self):
        self.client.get("/api/instructor/courses/", name="/api/instructor/courses/")

    @task(3)
    def check_media_queue(self):
        self.client.get("/api/media/?status=pending", name="/api/media/")

    @task(2)
    def open_own_course(self):
        if course := self.pick(self.courses):
            self.client.get(f"/api/courses/{course}/", name="/api/courses/<int:pk>/")

    @task(1)
    def upload_media(self):
        n = next(_uploads)
        self.post_expecting(
            "/api/media/",
            "/api/media/",
            {"file_name": f"lesson-{n}.mp4", "content_type": "video/mp4", "size_bytes": 1000 + n},
        )


class StaffUser(SampleUser):
    role = "admin"
    weight = 1

    @task
    def recent_users(self):
        self.client.get("/api/users/recent/", name="/api/users/recent/")
