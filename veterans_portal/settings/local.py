"""Development and demo (``make run``): embedded PostgreSQL and in-process tasks unless configured."""

import warnings

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASE_URL, DEBUG, MIDDLEWARE, database_config, env

# DEBUG comes from base.py: off unless asked for (a debug page shows settings to whoever triggers an error).
# Static files are served by WhiteNoise straight from static/ (runserver serves them only with DEBUG on).
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
WHITENOISE_USE_FINDERS = True
# Files come from static/ through the finders; no collectstatic folder is expected here.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
WHITENOISE_AUTOREFRESH = DEBUG
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="dev-only-field-encryption-key-not-for-production")

if DATABASE_URL:
    DATABASES = {"default": database_config(DATABASE_URL)}
else:
    from veterans_portal.embedded_db import embedded_database_url

    DATABASES = {"default": database_config(embedded_database_url(BASE_DIR))}
