"""The reminder job on a real Celery worker (Redis), and the portal with the broker down."""

from __future__ import annotations

import os
import signal
import time
from datetime import date, timedelta

import pytest

from apps.care import services
from apps.care.choices import TaskStatus
from apps.care.models import CareRun, DueVisit, VisitRule
from apps.care.tasks import reminders_run
from apps.core import outbox
from apps.core.models import Notification, OutboxMessage
from apps.core.tasks import outbox_drain
from apps.registry import hooks
from apps.registry import services as registry_services
from apps.registry.models import Veteran
from tests import redis_fault
from tests.care.test_engine import key_recipient
from tests.registry.factories import make_veteran

private_redis = redis_fault.private_redis  # a fixture: a Redis of our own that the tests stop


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


# --- follow-up work recorded with the change (issue 10, findings 18 and 20) ---------------------------------------



def test_a_change_committed_without_its_follow_up_is_drained(tree, users):
    """The process dies right after the commit (the on-commit callbacks of this test never run): the
    recompute is not lost, it waits in the outbox, written in the change's own transaction."""
    person = make_veteran(tree["village_a1"], actor=users["village_a1"], name="刚登记")
    row = OutboxMessage.objects.get()
    assert row.kind == "registry.veterans_changed" and row.payload == {"ids": [person.pk]}
    assert not DueVisit.objects.filter(veteran=person).exists()
    assert outbox.outbox_drain(older_than=timedelta(seconds=60)) == 0  # young rows are left to their message
    assert outbox.outbox_drain(older_than=timedelta(0)) == 1
    assert DueVisit.objects.filter(veteran=person, status=TaskStatus.OPEN).exists()
    assert not OutboxMessage.objects.exists()
    assert outbox.outbox_drain(older_than=timedelta(0)) == 0  # done once


def test_a_failing_follow_up_stays_for_the_next_drain(tree, users, monkeypatch):
    person = make_veteran(tree["village_a1"], actor=users["village_a1"])
    monkeypatch.setattr(services, "people_recompute", lambda **kw: 1 / 0)
    assert outbox.outbox_drain(older_than=timedelta(0)) == 0
    row = OutboxMessage.objects.get()
    assert row.attempts == 1 and "division" in row.error
    monkeypatch.undo()
    assert outbox.outbox_drain(older_than=timedelta(0)) == 1
    assert DueVisit.objects.filter(veteran=person).exists() and not OutboxMessage.objects.exists()


@pytest.fixture
def drain_at_once(monkeypatch):
    monkeypatch.setenv("OUTBOX_DRAIN_AFTER_SECONDS", "0")  # read by the worker's settings


@pytest.mark.celery_worker
def test_an_import_whose_follow_up_was_lost_is_completed_by_the_worker(drain_at_once, celery_worker, tree, users,
                                                                       monkeypatch, tmp_path):
    """An import commits and its process is killed before it queues the recompute (here: the enqueue is
    skipped): the worker's drain (every minute from beat, and at worker start) gives every person their tasks."""
    from apps.registry import importing
    from tests.registry.test_import import HEADER, person, write_xlsx

    monkeypatch.setattr(outbox, "outbox_dispatch", lambda pks: None)  # killed right after the commit
    path = write_xlsx(tmp_path / "花名册.xlsx", [HEADER, *[person(f"孙{n}", sequence=900 + 2 * n) for n in range(3)]])
    report = importing.veteran_import(actor=users["village_a1"], path=path, unit=tree["village_a1"], commit=True)
    assert report.created == 3
    people = list(Veteran.objects.values_list("pk", flat=True))
    assert not DueVisit.objects.filter(veteran__in=people).exists() and OutboxMessage.objects.count() == 1
    outbox_drain.apply_async(queue=celery_worker["queue"])
    deadline = time.monotonic() + 60
    while OutboxMessage.objects.exists():
        assert time.monotonic() < deadline, "the drain did not run"
        time.sleep(0.2)
    with_tasks = set(DueVisit.objects.filter(veteran__in=people).values_list("veteran_id", flat=True))
    assert with_tasks == set(people)


def test_a_record_change_with_redis_down_is_quick_and_loses_nothing(tree, users, private_redis,
                                                                    django_capture_on_commit_callbacks):
    """Redis stopped: the save answers at once (it waited ~19 s on the result store's reconnects) and the
    recompute is done in the web process, as the README says."""
    make_veteran(tree["village_a1"], actor=users["village_a1"])  # warm: compiled rules, imports
    private_redis.stop()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        person = make_veteran(tree["village_a1"], actor=users["village_a1"], name="停电那天")
    assert time.monotonic() - started < 5  # a fault check, not a speed figure
    assert DueVisit.objects.filter(veteran=person, status=TaskStatus.OPEN).exists()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.veteran_close(actor=users["village_a1"], veteran=person, status="deceased",
                                        on=date.today())
    assert time.monotonic() - started < 5
    assert not DueVisit.objects.filter(veteran=person, status=TaskStatus.OPEN).exists()
    assert not OutboxMessage.objects.filter(payload__ids=[person.pk]).exists()
