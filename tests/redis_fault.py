"""A private Redis that a test may stop: never the shared one on 127.0.0.1:6379.

``private_redis`` starts ``redis-server`` on a free port (no persistence), points Celery and the portal
at it with tasks not in-process, and yields a handle whose ``stop()`` kills that server (SIGKILL), as when
Redis dies. Import the fixture into a test module: ``from tests.redis_fault import private_redis``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def private_redis(settings, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: no Redis fault test (apt install redis-server)")
    from apps.core import broker
    from veterans_portal.celery import app

    server = PrivateRedis(tmp_path)

    def use(url: str, eager: bool) -> None:
        app.conf.broker_url = url
        app.conf.result_backend = url if not eager else app.conf.result_backend
        app.conf.task_always_eager = eager
        app._pool = None
        app.amqp._producer_pool = None
        broker.broker_forget()

    saved = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    use(server.url, False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = server.url
    yield server
    server.stop()
    app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = saved
    app._pool = None
    app.amqp._producer_pool = None
    broker.broker_forget()
