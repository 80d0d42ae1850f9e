"""A Celery worker started by the tests: test settings, pointed at the test database and Redis."""

import os

from .test import *  # noqa: F403
from .test import DATABASES

DATABASES["default"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
REDIS_URL = os.environ["REDIS_URL"]
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False
