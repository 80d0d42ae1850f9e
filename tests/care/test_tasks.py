"""The reminder job on a real Celery worker (Redis), and the portal with the broker down."""

from __future__ import annotations

import os
import signal
import time
from datetime import date

import pytest

from apps.care import services
from apps.care.choices import TaskStatus
from apps.care.models import CareRun, DueVisit, VisitRule
from apps.care.tasks import reminders_run
from apps.core.models import Notification
from apps.registry import hooks
from apps.registry import services as registry_services
from tests.care.test_engine import key_recipient
from tests.registry.factories import make_veteran


@pytest.fixture
def key_person(tree, users):
    """Made before the worker starts, while tasks still run in-process."""
    return key_recipient(make_veteran(tree["village_a1"], name="重点对象"))


@pytest.mark.celery_worker
def test_a_scheduled_reminder_is_delivered_once(key_person, users, celery_worker):
    queue = celery_worker["queue"]
    first = reminders_run.apply_async(kwargs={"on": "2027-01-20"}, queue=queue).get(timeout=120)
    assert first["created"] >= 4 and first["notified_units"] == 1
    second = reminders_run.apply_async(kwargs={"on": "2027-01-20"}, queue=queue).get(timeout=120)
    assert second["created"] == 0 and second["notified_units"] == 0
    notes = Notification.objects.filter(recipient=users["village_a1"])
    assert notes.count() == 1 and notes.get().link.startswith("/care/worklist/")
    spring = DueVisit.objects.get(veteran=key_person, occasion__code="spring_festival")
    assert (spring.due_date, spring.notified_on, spring.status) == (date(2027, 2, 6), date(2027, 1, 20),
                                                                    TaskStatus.OPEN)
    assert CareRun.objects.filter(finished_at__isnull=False, error="").count() == 2


@pytest.fixture
def broker_down(settings):
    """Celery pointed at a port where nothing listens, tasks not in-process: Redis is down."""
    from veterans_portal.celery import app

    def use(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    saved, eager = app.conf.broker_url, app.conf.task_always_eager
    use("redis://127.0.0.1:1/0")
    app.conf.task_always_eager = False
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    yield
    use(saved)
    app.conf.task_always_eager = eager


def test_pages_keep_working_with_redis_down(client, tree, users, broker_down, django_capture_on_commit_callbacks):
    from tests.conftest import login

    login(client, users["village_a1"])
    with django_capture_on_commit_callbacks(execute=True):
        person = make_veteran(tree["village_a1"], actor=users["village_a1"])
    # The recomputation could not be queued: it ran in the web process instead.
    assert DueVisit.objects.filter(veteran=person, status=TaskStatus.OPEN).exists()
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.veteran_close(actor=users["village_a1"], veteran=person, status="deceased",
                                        on=date.today())
    assert not DueVisit.objects.filter(veteran=person, status=TaskStatus.OPEN).exists()
    assert client.get(person.get_absolute_url()).status_code == 200
    assert client.get("/care/worklist/").status_code == 200
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and health["redis"]["ok"] is False


@pytest.fixture
def many_people(tree, users, monkeypatch):
    """120 records, made without the recompute hook (the run below is what gives them their tasks)."""
    monkeypatch.setattr(hooks, "_ON_CHANGE", [])
    return [make_veteran(tree["village_a1"], name=f"老兵{n}") for n in range(120)]


@pytest.fixture
def one_record_per_chunk(monkeypatch):
    monkeypatch.setenv("CARE_REMINDER_CHUNK", "1")  # read by the worker's settings


@pytest.mark.celery_worker
def test_a_worker_killed_mid_run_loses_nothing(many_people, one_record_per_chunk, celery_worker, settings):
    """SIGKILL the worker in the middle of the nightly run: what it committed stays, its lock dies with it,
    and the next run completes the work with no duplicate and no task missing."""
    bench_day = date(2027, 1, 20)
    reminders_run.apply_async(kwargs={"on": bench_day.isoformat()}, queue=celery_worker["queue"])
    deadline = time.monotonic() + 60
    while not CareRun.objects.filter(on_date=bench_day, created__gt=0).exists():
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.02)
    os.kill(celery_worker["process"].pid, signal.SIGKILL)
    celery_worker["process"].wait(10)
    killed = CareRun.objects.get(on_date=bench_day)
    yearly = VisitRule.objects.get(name="全体人员每年至少联系一次")
    kept = DueVisit.objects.filter(rule=yearly, period_key="I2027-01").count()
    assert killed.finished_at is None and 0 < kept < len(many_people)
    settings.CARE_REMINDER_CHUNK = 50
    completed = services.reminders_run(on=bench_day)  # not refused: the killed worker's lock is gone
    assert completed.finished_at is not None
    tasks = DueVisit.objects.filter(rule=yearly, period_key="I2027-01")
    assert tasks.count() == len(many_people)
    assert sorted(tasks.values_list("veteran_id", flat=True)) == sorted(p.pk for p in many_people)
