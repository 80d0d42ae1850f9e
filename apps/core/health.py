"""Liveness of the parts the portal needs: database, Redis (when configured) and Celery workers."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True}


def check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "configured": False}
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "configured": True, "error": str(exc)[:200]}
    return {"ok": True, "configured": True}


def check_celery(redis_ok: bool) -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process"}
    if not redis_ok:
        return {"ok": False, "mode": "worker", "workers": 0, "error": "broker unreachable"}
    from veterans_portal.celery import app

    try:
        replies = app.control.ping(timeout=0.5) or []
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "mode": "worker", "workers": 0, "error": str(exc)[:200]}
    return {"ok": bool(replies), "mode": "worker", "workers": len(replies)}


def check_all() -> dict:
    database = check_database()
    redis_status = check_redis()
    celery = check_celery(redis_status["ok"])
    healthy = database["ok"] and redis_status["ok"] and celery["ok"]
    return {
        "status": "ok" if healthy else ("degraded" if database["ok"] else "down"),
        "database": database,
        "redis": redis_status,
        "celery": celery,
    }
