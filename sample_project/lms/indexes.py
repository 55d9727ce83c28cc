"""Seed 004's four missing indexes: declared on the models only in the `after` variant.

`lms/migrations/0002_seed004_indexes.py` adds the same four indexes only in `after`, so both
variants migrate cleanly and `makemigrations --check` finds nothing to do in either.
"""

from __future__ import annotations

from django.db import models

from sample_project.variant import optimized

# model name → the index seed 004 says is missing (its CREATE INDEX names kept).
SEED004_INDEXES: dict[str, models.Index] = {
    # CREATE INDEX idx_user_last_login ON accounts_userprofile(last_login DESC)
    "userprofile": models.Index(fields=["-last_login"], name="idx_user_last_login"),
    # CREATE INDEX idx_media_processing ON media_library_mediafile(processing_status, created_at)
    "mediafile": models.Index(
        fields=["processing_status", "created_at"], name="idx_media_processing"
    ),
    # CREATE INDEX idx_enrollment_active ON enrollments_enrollment(user_id, course_id, status)
    "enrollment": models.Index(fields=["user", "course", "status"], name="idx_enrollment_active"),
    # CREATE INDEX idx_payment_user_status ON payments_paymentintent(user_id, payment_status)
    "paymentintent": models.Index(
        fields=["user", "payment_status"], name="idx_payment_user_status"
    ),
}


def seed004_indexes(model_name: str) -> list[models.Index]:
    """`Meta.indexes` of `model_name`: its seed-004 index in `after`, none in `before`."""
    return [SEED004_INDEXES[model_name].clone()] if optimized() else []
