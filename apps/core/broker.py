"""Sending work to Celery without making a page wait when Redis is down.

``broker_available()`` pings the broker with a short timeout and remembers the answer for
``BROKER_CHECK_CACHE_SECONDS`` in this process, so a page that queues work with Redis down answers at
once instead of waiting on connection retries (~19 s with Celery's defaults). ``send`` queues a task
fire-and-forget (no result subscription, which has its own retries) and raises ``BrokerUnavailable``
when the broker cannot take it. With tasks in-process (no ``REDIS_URL``) the broker is always available.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, Any] = {"url": None, "ok": True, "until": 0.0}


class BrokerUnavailable(Exception):
    """The broker (Redis) cannot take work right now."""


def in_process() -> bool:
    """Tasks run in the calling process (no REDIS_URL; tests), not on a worker."""
    return bool(current_app.conf.task_always_eager)


def _ping(url: str) -> bool:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return True  # another transport: let the send itself tell
    import redis

    timeout = settings.BROKER_CHECK_TIMEOUT
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "not now"
        return False


def broker_available(*, refresh: bool = False) -> bool:
    """Whether queued work can reach a worker now (cached a few seconds per process)."""
    if in_process():
        return True
    url = str(current_app.conf.broker_url or "")
    now = time.monotonic()
    with _lock:
        if not refresh and _state["url"] == url and now < _state["until"]:
            return _state["ok"]
    ok = _ping(url)
    _remember(url, ok)
    return ok


def _remember(url: str, ok: bool) -> None:
    with _lock:
        _state.update(url=url, ok=ok, until=time.monotonic() + settings.BROKER_CHECK_CACHE_SECONDS)


def broker_forget() -> None:
    """Drop the cached answer (tests; a health check that wants the truth)."""
    with _lock:
        _state.update(url=None, ok=True, until=0.0)


def send(task, args: list | tuple = (), *, queue: str | None = None) -> None:
    """Queue ``task(*args)`` (a task, or a task's name: the sender need not import the task's module); raise
    ``BrokerUnavailable`` at once when the broker cannot take it."""
    if not broker_available():
        raise BrokerUnavailable
    options: dict[str, Any] = {"ignore_result": True}
    if queue:
        options["queue"] = queue
    try:
        if isinstance(task, str):
            current_app.send_task(task, args=list(args), **options)
        else:
            task.apply_async(args=list(args), **options)
    except Exception as exc:
        if in_process():
            raise  # the task itself failed, in-process: not a broker problem
        logger.warning("broker: could not queue %s", getattr(task, "name", task), exc_info=True)
        _remember(str(current_app.conf.broker_url or ""), False)
        raise BrokerUnavailable from exc
