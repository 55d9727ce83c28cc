# Seed 004's four missing indexes, applied only in the `after` variant.
#
# The models declare the same indexes only in `after` (lms/indexes.py), so the migration state
# matches the models in both variants and `makemigrations --check` stays clean in each. A
# database keeps the indexes of the variant that migrated it: use one database per variant.

from django.conf import settings
from django.db import migrations, models

SEED004_INDEXES = [
    migrations.AddIndex(
        model_name="userprofile",
        index=models.Index(fields=["-last_login"], name="idx_user_last_login"),
    ),
    migrations.AddIndex(
        model_name="mediafile",
        index=models.Index(fields=["processing_status", "created_at"], name="idx_media_processing"),
    ),
    migrations.AddIndex(
        model_name="enrollment",
        index=models.Index(fields=["user", "course", "status"], name="idx_enrollment_active"),
    ),
    migrations.AddIndex(
        model_name="paymentintent",
        index=models.Index(fields=["user", "payment_status"], name="idx_payment_user_status"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = SEED004_INDEXES if settings.SAMPLE_VARIANT == "after" else []
