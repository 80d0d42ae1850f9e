"""Test settings: real PostgreSQL (DATABASE_URL, else embedded), fast hashing, no second factor demand."""

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASE_URL, database_config

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789-abcdefghijklmnop"
FIELD_ENCRYPTION_KEY = "test-field-encryption-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]

if DATABASE_URL:
    DATABASES = {"default": database_config(DATABASE_URL)}
else:
    from veterans_portal.embedded_db import embedded_database_url

    DATABASES = {"default": database_config(embedded_database_url(BASE_DIR))}
DATABASES["default"]["CONN_MAX_AGE"] = 0

# Tasks run in-process unless a test starts a real worker (tests/conftest.py: celery_worker).
CELERY_TASK_ALWAYS_EAGER = True
