"""/healthz: database, Redis and Celery worker liveness as JSON, for load balancers and monitoring."""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: no real Redis to check against")


def health(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


@pytest.fixture
def isolated_broker():
    """Point the Celery app at a Redis database no worker listens on, so that a worker started
    elsewhere on this machine (another test run, a developer's `make worker`) cannot answer."""
    from veterans_portal.celery import app

    def use(url):
        # Drop the cached connection and producer pools (as Celery does after a fork).
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.broker_url
    use(REDIS_URL.rsplit("/", 1)[0] + "/15")
    yield app
    use(saved)


def test_database_ok_in_process_tasks(client, db, settings):
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    status, body = health(client)
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["redis"] == {"ok": True, "configured": False}
    assert body["celery"] == {"ok": True, "mode": "in-process"}


def test_no_login_needed(client, db):
    status, body = health(client)
    assert status == 200 and body["database"]["ok"] is True


def test_redis_down_is_degraded(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_TASK_ALWAYS_EAGER = False
    status, body = health(client)
    assert status == 200  # the portal still serves pages
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is False and body["redis"]["configured"] is True
    assert body["redis"]["error"]
    assert body["celery"] == {"ok": False, "mode": "worker", "workers": 0, "error": "broker unreachable"}


@needs_redis
def test_redis_up_but_no_worker(client, db, settings, isolated_broker):
    settings.REDIS_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    status, body = health(client)
    assert status == 200
    assert body["redis"] == {"ok": True, "configured": True}
    assert body["celery"]["ok"] is False and body["celery"]["workers"] == 0
    assert body["status"] == "degraded"


@pytest.mark.celery_worker
def test_redis_and_worker_up(client, settings, celery_worker):
    settings.REDIS_URL = REDIS_URL
    status, body = health(client)
    assert status == 200
    assert body["celery"]["ok"] is True and body["celery"]["workers"] >= 1
    assert body["status"] == "ok"

