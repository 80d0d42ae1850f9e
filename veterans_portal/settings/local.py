"""Development and demo (``make run``): embedded PostgreSQL and in-process tasks unless configured."""

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASE_URL, database_config, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="dev-only-field-encryption-key-not-for-production")

if DATABASE_URL:
    DATABASES = {"default": database_config(DATABASE_URL)}
else:
    from veterans_portal.embedded_db import embedded_database_url

    DATABASES = {"default": database_config(embedded_database_url(BASE_DIR))}
