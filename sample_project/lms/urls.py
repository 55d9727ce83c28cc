from __future__ import annotations

from django.urls import path

from lms.views import accounts, activity, courses, instructor

urlpatterns = [
    path("auth/login/", accounts.Login.as_view(), name="login"),
    path("auth/profile/", accounts.Profile.as_view(), name="profile"),
    path("users/recent/", accounts.RecentUsers.as_view(), name="recent-users"),
    path("categories/", courses.CategoryList.as_view(), name="categories"),
    path("courses/", courses.CourseList.as_view(), name="courses"),
    path("courses/<int:pk>/", courses.CourseDetail.as_view(), name="course-detail"),
    path("courses/<int:pk>/enroll/", courses.CourseEnroll.as_view(), name="course-enroll"),
    path("courses/<int:pk>/reviews/", courses.CourseReviews.as_view(), name="course-reviews"),
    path(
        "instructor/courses/",
        instructor.InstructorCourseList.as_view(),
        name="instructor-courses",
    ),
    path("media/", activity.MediaFiles.as_view(), name="media"),
    path("enrollments/", activity.Enrollments.as_view(), name="enrollments"),
    path("payments/", activity.Payments.as_view(), name="payments"),
]
