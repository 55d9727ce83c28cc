"""A minimal Django project the audit tests start under gunicorn (no models, no migrations)."""
