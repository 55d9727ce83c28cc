"""Every persona at once, weighted like a working day: mostly students, then instructors and
advertisers, a few managers and staff. The profile for a realistic whole-system audit.

    manage.py perf_audit --profile mixed --users 20 --run-time 1m
"""

import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)

from campaigns import AdvertiserUser
from lms_instructors import InstructorUser, StaffUser
from lms_students import StudentUser
from projects import ManagerUser

# The weights are the personas' own (students 6, instructors 2, advertisers 2, managers 1,
# staff 1); Locust runs every User class this module names.
__all__ = ["AdvertiserUser", "InstructorUser", "ManagerUser", "StaffUser", "StudentUser"]
