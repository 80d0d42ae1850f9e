"""The job-kind registry (apps.core.jobs): routing by kind, the claim only one worker wins, progress, failures
in Chinese, and the owner's retry of failed and stuck jobs (on a real Celery worker)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core import files, jobs, tasks
from apps.core.choices import JobStatus
from apps.core.models import Job
from apps.registry import exporting, services
from tests.conftest import login, wait_for_job
from tests.registry.factories import id_number


@pytest.fixture
def toy_kinds(monkeypatch):
    """Two toy kinds (the registry is per process: the real ones stay registered beside them)."""
    ran: list[tuple[str, int]] = []

    def count(job, progress):
        progress.update(0, 3)
        for done in (1, 2, 3):
            progress.update(done)
        ran.append(("count", job.pk))
        job.result = {"rows": 3}
        job.save(update_fields=["result"])

    def refuse(job, progress):
        ran.append(("refuse", job.pk))
        raise jobs.JobError("名单为空，无法导出")

    def crash(job, progress):
        raise RuntimeError("boom")

    for name, run in (("test.count", count), ("test.refuse", refuse), ("test.crash", crash)):
        monkeypatch.setitem(jobs._KINDS, name, jobs.JobKind(name, run, None, name))
    return ran


def make(user, kind, status=JobStatus.PENDING, **extra) -> Job:
    return Job.objects.create(kind=kind, user=user, title=kind, status=status, **extra)


def test_each_app_registers_its_kinds():
    kinds = jobs.registered()
    assert kinds[exporting.JOB_KIND].queue == "reports" and kinds["registry.import"].queue == "imports"
    assert kinds[exporting.JOB_KIND].run is exporting.export_job_run
    with pytest.raises(ValueError):
        jobs.register(kind="x" * 33, run=lambda job, progress: None)


def test_the_task_routes_by_kind_and_marks_the_job(users, toy_kinds):
    owner = users["street_a"]
    counted, refused, crashed = make(owner, "test.count"), make(owner, "test.refuse"), make(owner, "test.crash")
    unknown = make(owner, "test.gone")
    assert tasks.run_job(counted.pk) == {"job": counted.pk, "status": JobStatus.DONE, "rows": 3}
    with translation.override("zh-hans"):
        for job in (refused, crashed, unknown):
            assert tasks.run_job(job.pk)["status"] == JobStatus.FAILED
        internal = _("The job stopped because of an internal error. Try again or ask the administrator.")
        gone = _("This kind of job can no longer be run.")
    assert toy_kinds == [("count", counted.pk), ("refuse", refused.pk)]
    counted.refresh_from_db()
    assert (counted.progress, counted.total, counted.error) == (3, 3, "") and counted.finished_at is not None
    assert counted.heartbeat_at is not None
    errors = {job.kind: Job.objects.get(pk=job.pk).error for job in (refused, crashed, unknown)}
    assert errors == {"test.refuse": "名单为空，无法导出", "test.crash": internal, "test.gone": gone}
    assert "任务" in internal  # the reasons are in Chinese
    # finished jobs are never run again
    assert tasks.run_job(counted.pk) == {"job": counted.pk, "skipped": True}
    assert toy_kinds == [("count", counted.pk), ("refuse", refused.pk)]


def test_start_queues_after_the_commit(users, toy_kinds, django_capture_on_commit_callbacks):
    job = make(users["street_a"], "test.count")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.start(job)
    assert toy_kinds == [] and len(callbacks) == 1
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and toy_kinds == [("count", job.pk)]
    with pytest.raises(LookupError):
        jobs.start(make(users["street_a"], "test.gone"))


def test_only_a_dead_worker_s_running_job_is_claimed_again(users, settings):
    settings.JOB_STUCK_AFTER_MINUTES = 30
    job = make(users["street_a"], "test.count")
    assert jobs.job_claim(job.pk) and not jobs.job_claim(job.pk)  # a duplicate message while it runs
    assert jobs.job_claim(job.pk, redelivered=True)  # its worker died: the broker redelivered the message
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=31))
    assert jobs.job_claim(job.pk)  # no sign of life: stuck
    for status in (JobStatus.DONE, JobStatus.EXPIRED):
        Job.objects.filter(pk=job.pk).update(status=status)
        assert not jobs.job_claim(job.pk, redelivered=True)


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_one_wins(users):
    job = make(users["street_a"], "test.count")
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def claim() -> None:
        try:
            barrier.wait()
            won.append(jobs.job_claim(job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, True]


def test_progress_is_throttled_and_beats(users):
    job = make(users["street_a"], "test.count", status=JobStatus.RUNNING)
    progress = jobs.Progress(job, every=3600)
    progress.update(0, 10)  # a new total is always written
    progress.update(4)  # within the interval: not written
    job.refresh_from_db()
    assert (job.progress, job.total) == (0, 10) and job.heartbeat_at is not None
    progress.every = 0
    progress.update(40)  # capped at the total
    job.refresh_from_db()
    assert job.progress == 10


def test_progress_inside_a_transaction_is_seen_outside_it(users, transactional_db):
    from django.db import connections, transaction

    job = make(users["street_a"], "test.count", status=JobStatus.RUNNING, total=100)
    progress = jobs.Progress(job, every=0)
    with transaction.atomic():
        progress.update(42)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(f'SELECT progress FROM "{Job._meta.db_table}" WHERE id = %s', [job.pk])  # noqa: S608
                assert cursor.fetchone()[0] == 42
        finally:
            other.close()
    progress.close()


def test_a_running_job_with_a_recent_sign_of_life_is_not_retried(client, users, settings,
                                                                 django_capture_on_commit_callbacks):
    settings.JOB_STUCK_AFTER_MINUTES = 30
    job = make(users["street_a"], exporting.JOB_KIND, status=JobStatus.RUNNING,
               heartbeat_at=timezone.now() - timedelta(minutes=5))
    login(client, users["street_a"])
    page = client.get(reverse("jobs:job_list")).content.decode()
    assert reverse("jobs:job_retry", args=[job.pk]) not in page
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("jobs:job_retry", args=[job.pk]))
    assert not callbacks
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING


@pytest.mark.celery_worker
def test_the_owner_retries_a_stuck_job_on_a_real_worker(celery_worker, client, users, tree, settings, monkeypatch):
    """A worker killed mid-export left the job running with no sign of life: its owner (only) runs it again,
    and the retry travels through Redis to a worker that claims the stuck job and finishes it."""
    monkeypatch.setitem(jobs._KINDS, exporting.JOB_KIND, replace(jobs._KINDS[exporting.JOB_KIND],
                                                                 queue=celery_worker["queue"]))
    settings.JOB_STUCK_AFTER_MINUTES = 30
    for unit, name, birth in [("village_a1", "张伟", "19700305"), ("village_a2", "张文", "19801111")]:
        services.veteran_register(actor=None, id_number=id_number(birth), org_unit=tree[unit], name=name)
    owner = users["street_a"]
    grants = files.job_grants(user=owner, permissions=exporting.export_permissions(unmasked=False))
    job = make(owner, exporting.JOB_KIND, status=JobStatus.RUNNING, reason="核对", progress=1, total=2,
               params={"query": "", "unmasked": False}, heartbeat_at=timezone.now() - timedelta(minutes=31), **grants)
    url = reverse("jobs:job_retry", args=[job.pk])
    for who in ("street_b", "admin", "village_a1"):
        login(client, users[who])
        assert client.post(url).status_code == 404, who
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    login(client, owner)
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_list")
    wait_for_job(job)
    assert (job.status, job.error, job.result.get("rows")) == (JobStatus.DONE, "", 2)
    assert job.output_file and job.heartbeat_at > timezone.now() - timedelta(minutes=5)
    # and a failed one, the same way
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="导出失败")
    assert client.post(url).status_code == 302
    wait_for_job(job)
    assert (job.status, job.error) == (JobStatus.DONE, "")
