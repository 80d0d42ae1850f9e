"""Shared fixtures: a small district tree and one user per role, built through the services."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.core.choices import Role
from apps.core.models import OrgUnit, User
from apps.core.services import orgunit_create, user_create

PASSWORD = "Test#Passw0rd"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded and generated files of a test go to its own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def roles(db) -> None:
    """Reference data: the role grants applied after migrate (each app's roles.py), the code tables seeded by
    migrations. A transactional test's flush empties those tables, so they are restored here, idempotently
    and through the same function as after migrate, for the tests that follow it."""
    import importlib

    from django.apps import apps

    from apps.core.discovery import grant_roles
    from apps.registry.models import Code

    grant_roles()
    if not Code.objects.exists():
        importlib.import_module("apps.registry.migrations.0002_seed_code_tables").seed(apps, None)
    from apps.care.models import Occasion

    if not Occasion.objects.exists():
        importlib.import_module("apps.care.migrations.0002_seed_occasions_and_rules").forwards(apps, None)


@pytest.fixture
def tree(db) -> dict[str, OrgUnit]:
    """District D with streets A and B; A has villages A1 and A2, B has village B1."""
    d = orgunit_create(actor=None, parent=None, code="320111000000", name="测试区")
    a = orgunit_create(actor=None, parent=d, code="320111001000", name="甲街道")
    b = orgunit_create(actor=None, parent=d, code="320111002000", name="乙街道")
    a1 = orgunit_create(actor=None, parent=a, code="320111001001", name="甲一社区")
    a2 = orgunit_create(actor=None, parent=a, code="320111001201", name="甲二村")
    b1 = orgunit_create(actor=None, parent=b, code="320111002001", name="乙一社区")
    return {name: OrgUnit.objects.get(pk=unit.pk) for name, unit in
            {"district": d, "street_a": a, "street_b": b, "village_a1": a1, "village_a2": a2, "village_b1": b1}.items()}


@pytest.fixture
def make_user(db, roles):
    counter = {"n": 0}

    def _make(role: Role | None, unit: OrgUnit | None, username: str | None = None, **extra) -> User:
        counter["n"] += 1
        name = username or f"user{counter['n']}"
        return user_create(actor=None, username=name, password=PASSWORD, real_name=f"测试{counter['n']}",
                           org_unit=unit, roles=[role] if role else [], **extra)

    return _make


@pytest.fixture
def users(tree, make_user) -> dict[str, User]:
    """One user per role; station users in street A / village A1, plus siblings for scope tests."""
    return {
        "admin": make_user(Role.ADMIN, tree["district"], "admin"),
        "leader": make_user(Role.LEADER, tree["district"], "leader"),
        "bureau": make_user(Role.BUREAU_STAFF, tree["district"], "bureau"),
        "street_a": make_user(Role.STREET_STATION, tree["street_a"], "street_a"),
        "street_b": make_user(Role.STREET_STATION, tree["street_b"], "street_b"),
        "village_a1": make_user(Role.VILLAGE_STATION, tree["village_a1"], "village_a1"),
        "village_a2": make_user(Role.VILLAGE_STATION, tree["village_a2"], "village_a2"),
        "village_b1": make_user(Role.VILLAGE_STATION, tree["village_b1"], "village_b1"),
        "enterprise": make_user(Role.ENTERPRISE, None, "enterprise"),
    }


def login(client, user: User) -> None:
    """Log a user in on the test client, second factor included (as if verified). The session counts as just
    renewed (IdleTimeoutMiddleware), as after a real log-in, so that the first page is not the one that
    renews it: query-count tests compare pages, not session writes."""
    client.force_login(user)
    session = client.session
    session["_renewed"] = int(time.time())
    if user.is_portal_admin:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _created = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session["otp_device_id"] = device.persistent_id
    session.save()


def login_password_only(client, user: User) -> None:
    """Log a user in who has a confirmed second-factor device but passed only the password step: the
    session the second-factor rules are about (the middleware sends it to the verify page)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    client.force_login(user)
    session = client.session
    session["_renewed"] = int(time.time())
    session.save()


def wait_for_job(job, seconds: float = 60) -> None:
    """Reload ``job`` until a worker has finished it (done or failed) or ``seconds`` have passed."""
    from apps.core.choices import JobStatus

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return
        time.sleep(0.2)


def api_token(user: User) -> str:
    """A fresh API token key for ``user`` (issued through the service: stored as a digest, expiring)."""
    from apps.core.services import api_token_issue

    return api_token_issue(user=user)[1]


@pytest.fixture
def login_as(client):
    def _login(user: User):
        client.logout()
        login(client, user)
        return client

    return _login


# --- a real Celery worker on Redis ------------------------------------------------------------


@pytest.fixture
def celery_worker(transactional_db, settings):
    """Start ``celery worker`` as a subprocess against Redis and the test database.

    Skipped with a reason when REDIS_URL is unset (CI sets it). Tasks sent from the test reach
    the worker through Redis; the worker writes to the same test database.
    """
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL must be set under CI=true")
        pytest.skip("REDIS_URL is not set: no real Celery worker test (CI sets it)")
    from veterans_portal.celery import app

    db = settings.DATABASES["default"]
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "veterans_portal.settings.worker_test",
        "TEST_DATABASE_NAME": db["NAME"],
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the test's own media folder (see media_root)
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    proc = subprocess.Popen(
        [celery, "-A", "veterans_portal", "worker", "-Q", queue, "-c", "1", "-P", "solo", "-l", "warning",
         "-n", f"{queue}@%h", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    app.conf.broker_url = redis_url
    app.conf.result_backend = redis_url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stdout.read().decode())
        replies = app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5)
        if replies:
            break
    else:
        proc.kill()
        raise RuntimeError("Celery worker did not start within 30 s")
    yield {"queue": queue, "app": app, "process": proc}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    app.conf.task_always_eager = True
