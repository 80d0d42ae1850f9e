"""The download centre: a user's own jobs only, progress polling, logged downloads, retry of failed jobs."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from apps.core import broker, files, tasks
from apps.core.choices import AccessAction, JobStatus
from apps.core.discovery import schedules
from apps.core.files import generated_files_expire
from apps.core.jobs import jobs_fail_stuck
from apps.core.models import AccessLog, Job
from apps.core.tasks import jobs_fail_stuck as jobs_fail_stuck_task
from tests import redis_fault
from tests.conftest import login


def make_job(user, status=JobStatus.DONE, *, kind="registry.export", content=b"PK-file", **extra) -> Job:
    # Made under the owner's export permission and area, as exporting.export_job_run records them.
    extra = {**files.job_grants(user=user, permissions=["registry.view_veteran", "registry.export_veteran"]),
             **extra}
    job = Job.objects.create(kind=kind, user=user, title=extra.pop("title", f"导出-{user.username}"), status=status,
                             reason=extra.pop("reason", "核对"), **extra)
    if status == JobStatus.DONE:
        job.output_file.save("result.xlsx", ContentFile(content), save=False)
        job.finished_at = timezone.now()
        job.progress = job.total = 3
        job.result = {"rows": 3, "filename": "退役军人名单.xlsx"}
        job.save()
    return job


def test_the_list_shows_only_my_jobs(client, users):
    mine = make_job(users["village_a1"], title="我的导出")
    make_job(users["village_a2"], title="邻村的导出")
    make_job(users["admin"], title="管理员的导出")
    login(client, users["village_a1"])
    response = client.get(reverse("jobs:job_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "我的导出" in page and "邻村的导出" not in page and "管理员的导出" not in page
    assert response.context["jobs"] == [mine]
    assert reverse("jobs:job_download", args=[mine.pk]) in page
    assert not response.context["polling"] and 'hx-trigger="every 2s"' not in page


def test_running_jobs_poll_every_two_seconds(client, users):
    job = make_job(users["street_a"], JobStatus.RUNNING, total=10000, progress=2500)
    login(client, users["street_a"])
    page = client.get(reverse("jobs:job_list")).content.decode()
    assert 'hx-trigger="every 2s"' in page and f'hx-get="{reverse("jobs:job_list")}"' in page
    assert '<progress class="w-100" max="100" value="25"' in page and "2500 / 10000" in page
    partial = client.get(reverse("jobs:job_list"), headers={"HX-Request": "true"})
    assert partial.templates[0].name == "core/partials/job_table.html"
    assert partial.content.decode().lstrip().startswith('<div class="card" id="job-table"')
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, progress=10000)
    done = client.get(reverse("jobs:job_list"), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' not in done  # polling stops when nothing is running


def test_download_is_scoped_and_logged(client, users):
    job = make_job(users["village_a1"], content=b"xlsx-bytes")
    url = reverse("jobs:job_download", args=[job.pk])
    login(client, users["village_a1"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"xlsx-bytes"
    assert "attachment" in response["Content-Disposition"] and "xlsx" in response["Content-Disposition"]
    entry = AccessLog.objects.get(action=AccessAction.DOWNLOAD)
    assert entry.user == users["village_a1"] and entry.object_id == str(job.pk) and entry.detail["rows"] == 3
    # Nobody else, however senior, downloads another user's file: 404 as for a missing job.
    for who in ("village_a2", "street_a", "admin", "leader", "enterprise"):
        login(client, users[who])
        assert client.get(url).status_code == 404, who
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 1
    client.logout()
    assert client.get(url).status_code == 302


def test_unfinished_or_missing_files_answer_404(client, users):
    running = make_job(users["street_a"], JobStatus.RUNNING)
    done = make_job(users["street_a"])
    done.output_file.storage.delete(done.output_file.name)
    login(client, users["street_a"])
    assert client.get(reverse("jobs:job_download", args=[running.pk])).status_code == 404
    assert client.get(reverse("jobs:job_download", args=[done.pk])).status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.DOWNLOAD).exists()


def test_a_failed_job_shows_its_reason_and_can_be_retried(client, users, tree, django_capture_on_commit_callbacks):
    from tests.registry.factories import make_veteran

    make_veteran(tree["village_a1"], name="张伟")
    make_veteran(tree["village_b1"], name="王芳")
    job = make_job(users["street_a"], JobStatus.FAILED, error="导出失败：磁盘已满", params={"query": "", "unmasked": False},
                   finished_at=timezone.now())
    login(client, users["street_a"])
    page = client.get(reverse("jobs:job_list")).content.decode()
    assert "导出失败：磁盘已满" in page and reverse("jobs:job_retry", args=[job.pk]) in page
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("jobs:job_retry", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_list")
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.error == "" and job.result["rows"] == 1
    assert job.output_file


def test_only_the_owner_retries_and_only_failed_jobs(client, users, django_capture_on_commit_callbacks):
    failed = make_job(users["village_a1"], JobStatus.FAILED, error="x")
    url = reverse("jobs:job_retry", args=[failed.pk])
    for who in ("village_a2", "street_a", "admin"):
        login(client, users[who])
        assert client.post(url).status_code == 404, who
    login(client, users["village_a1"])
    assert client.get(url).status_code == 405
    done = make_job(users["village_a1"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("jobs:job_retry", args=[done.pk]), follow=True)
    assert not callbacks
    done.refresh_from_db()
    assert done.status == JobStatus.DONE
    assert len(list(response.context["messages"])) == 1
    unknown = make_job(users["village_a1"], JobStatus.FAILED, kind="no.such.task")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("jobs:job_retry", args=[unknown.pk]))
    assert not callbacks
    unknown.refresh_from_db()
    assert unknown.status == JobStatus.FAILED


def test_anonymous_visitors_go_to_login(client, users):
    response = client.get(reverse("jobs:job_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- generated files expire (issue 10, finding 5) ---------------------------------------------------


def _finished(job: Job, days_ago: float) -> Job:
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=days_ago))
    job.refresh_from_db()
    return job


def test_files_are_deleted_after_the_configured_days_and_the_job_shows_expired(
        client, users, settings, django_capture_on_commit_callbacks):
    settings.GENERATED_FILES_TTL_DAYS = 3
    owner = users["village_a1"]
    old = _finished(make_job(owner, title="四天前的导出"), 4)
    fresh = _finished(make_job(owner, title="两天前的导出"), 2)
    running = make_job(owner, JobStatus.RUNNING, title="进行中的导出")
    Job.objects.filter(pk=running.pk).update(created_at=timezone.now() - timedelta(days=30))
    failed_without_file = _finished(make_job(owner, JobStatus.FAILED, title="失败的导出", error="x"), 30)
    old_path, fresh_path = Path(old.output_file.path), Path(fresh.output_file.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.generated_files_purge() == {"jobs": 1, "files": 1}
    old.refresh_from_db()
    assert old.status == JobStatus.EXPIRED and not old.output_file and not old_path.exists()
    fresh.refresh_from_db()
    assert fresh.status == JobStatus.DONE and fresh_path.exists()
    assert Job.objects.get(pk=running.pk).status == JobStatus.RUNNING
    assert Job.objects.get(pk=failed_without_file.pk).status == JobStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.generated_files_purge() == {"jobs": 0, "files": 0}  # safe to run again

    login(client, owner)
    assert client.get(reverse("jobs:job_download", args=[old.pk])).status_code == 404
    page = client.get(reverse("jobs:job_list")).content.decode()
    row = page[page.index(f'id="job-{old.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "已过期" in row and "download" not in row
    assert reverse("jobs:job_download", args=[fresh.pk]) in page


def test_a_download_past_the_deadline_expires_the_job_at_once(client, users, django_capture_on_commit_callbacks):
    job = _finished(make_job(users["village_a1"]), 8)  # default: 7 days; the hourly purge has not run yet
    path = Path(job.output_file.path)
    login(client, users["village_a1"])
    page = client.get(reverse("jobs:job_list")).content.decode()
    assert "已过期" in page and reverse("jobs:job_download", args=[job.pk]) not in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("jobs:job_download", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not path.exists()
    assert not AccessLog.objects.filter(action=AccessAction.DOWNLOAD).exists()


def test_import_sheets_expire_too(users, django_capture_on_commit_callbacks):
    """An import's uploaded sheet and its error sheet hold full ID numbers: they go with the job."""
    job = _finished(make_job(users["village_a1"], kind="registry.import"), 10)
    job.input_file.save("import-x.xlsx", ContentFile(b"sheet"), save=True)
    paths = [Path(job.input_file.path), Path(job.output_file.path)]
    with django_capture_on_commit_callbacks(execute=True):
        assert generated_files_expire().files == 2
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not job.input_file and not any(p.exists() for p in paths)


def test_the_purge_is_scheduled_hourly():
    spec = schedules()["generated-files-purge-hourly"]
    assert (spec.task, spec.minute, spec.hour) == ("core.generated_files_purge", "20", "*")


@pytest.mark.celery_worker
def test_the_purge_runs_on_a_real_worker(celery_worker, users):
    job = _finished(make_job(users["village_a1"]), 9)
    path = Path(job.output_file.path)
    result = tasks.generated_files_purge.apply_async(queue=celery_worker["queue"]).get(timeout=60)
    assert result == {"jobs": 1, "files": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not path.exists()


def test_an_import_error_sheet_is_encrypted_and_follows_the_importer_s_area(login_as, users, tree, tmp_path):
    """The error sheet is the user's own rows with full ID numbers: sealed at rest, re-checked at download."""
    from apps.registry import importing
    from tests.registry.test_import import HEADER, person, write_xlsx

    client = login_as(users["village_a1"])
    path = write_xlsx(tmp_path / "花名册.xlsx", [["花名册"], HEADER, person("张伟"), person("李娜", 公民身份号码="123")])
    with open(path, "rb") as handle:
        client.post(reverse("registry:import_upload"), {"file": handle})
    job = Job.objects.get(kind=importing.JOB_KIND)
    assert (job.grant_permissions, job.grant_scope) == ([importing.PERMISSION], tree["village_a1"].path)
    raw = Path(job.output_file.path).read_bytes()
    assert job.output_encrypted and raw.startswith(files.MAGIC) and job.output_file.name.endswith(".xlsx.enc")
    urls = [reverse("registry:import_errors", args=[job.pk]), reverse("jobs:job_download", args=[job.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"PK")
    users["village_a1"].org_unit = tree["village_a2"]  # moved to the sibling village
    users["village_a1"].save(update_fields=["org_unit"])
    for url in urls:
        assert client.get(url).status_code == 404
# --- stuck jobs and Redis down (issue 10, findings 17 and 20) ------------------------------------------------

private_redis = redis_fault.private_redis  # a fixture: a Redis of our own that the tests stop
UNAVAILABLE = "后台服务暂不可用"


def test_a_job_without_a_sign_of_life_is_failed_and_its_owner_retries_it(client, users, settings, tree,
                                                                         django_capture_on_commit_callbacks):
    from tests.registry.factories import make_veteran

    make_veteran(tree["village_a1"], name="张伟")
    settings.JOB_STUCK_AFTER_MINUTES = 30
    long_ago = timezone.now() - timedelta(minutes=31)
    owner = users["street_a"]
    # a worker killed mid-export: running, its last progress 31 minutes ago
    killed = make_job(owner, JobStatus.RUNNING, params={"query": "", "unmasked": False}, heartbeat_at=long_ago)
    # a message lost with Redis: waiting since it was queued 31 minutes ago, never picked up
    lost = make_job(owner, JobStatus.PENDING, params={"query": "", "unmasked": False})
    Job.objects.filter(pk=lost.pk).update(created_at=long_ago)
    alive = make_job(owner, JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5))
    someone_elses = make_job(users["street_b"], JobStatus.RUNNING, heartbeat_at=long_ago)
    login(client, owner)
    page = client.get(reverse("jobs:job_list")).content.decode()  # failed lazily when the owner lists them
    for job in (killed, lost):
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and "30 分钟" in job.error, job.error
        assert job.finished_at is not None and reverse("jobs:job_retry", args=[job.pk]) in page
    alive.refresh_from_db()
    someone_elses.refresh_from_db()
    assert alive.status == JobStatus.RUNNING and someone_elses.status == JobStatus.RUNNING
    assert jobs_fail_stuck_task()["failed"] == 1  # the periodic task fails everyone's
    someone_elses.refresh_from_db()
    assert someone_elses.status == JobStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("jobs:job_retry", args=[killed.pk]))
    killed.refresh_from_db()
    assert (killed.status, killed.error, killed.result["rows"]) == (JobStatus.DONE, "", 1)
    assert killed.heartbeat_at > long_ago


def test_the_stuck_check_is_in_the_beat_schedule(db):
    tasks = {spec.task for spec in schedules().values()}
    assert {"core.jobs_fail_stuck", "core.outbox_drain"} <= tasks
    assert jobs_fail_stuck() == 0


def test_a_retry_with_redis_down_leaves_the_job_failed_and_retryable(client, users, private_redis,
                                                                     django_capture_on_commit_callbacks):
    job = make_job(users["village_a1"], JobStatus.FAILED, error="x", params={"query": "", "unmasked": False})
    login(client, users["village_a1"])
    client.get(reverse("jobs:job_list"))  # templates compiled: the time below is the retry's
    private_redis.stop()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:job_retry", args=[job.pk]), follow=True)
    assert time.monotonic() - started < 5  # a fault check, not a speed figure
    assert response.status_code == 200 and UNAVAILABLE in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_queueing_that_fails_leaves_the_job_failed_not_pending(client, users, private_redis,
                                                               django_capture_on_commit_callbacks):
    """Redis dies after the quick check said it was up: the send fails, the job is failed, never left waiting."""
    job = make_job(users["village_a1"], JobStatus.FAILED, error="x", params={"query": "", "unmasked": False})
    login(client, users["village_a1"])
    client.get(reverse("jobs:job_list"))  # templates compiled: the time below is the retry's
    assert broker.broker_available()  # up, and remembered for a few seconds
    private_redis.stop()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:job_retry", args=[job.pk]))
    assert time.monotonic() - started < 5
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and UNAVAILABLE in job.error
    page = client.get(reverse("jobs:job_list")).content.decode()
    assert UNAVAILABLE in page and reverse("jobs:job_retry", args=[job.pk]) in page
    assert not broker.broker_available()  # remembered as down: the next page does not wait either


def test_a_large_export_with_redis_down_tells_the_user(transactional_db, client, users, tree, settings,
                                                         private_redis):
    """Committed as in production (no test transaction): the job is failed at once and the page says why."""
    from tests.registry.factories import make_veteran

    settings.REGISTRY_EXPORT_SYNC_MAX_ROWS = 1
    make_veteran(tree["village_a1"], name="张伟")
    make_veteran(tree["village_a1"], name="李强")
    login(client, users["street_a"])
    client.get(reverse("jobs:job_list"))  # templates compiled: the time below is the export's
    private_redis.stop()
    started = time.monotonic()
    response = client.post(reverse("registry:veteran_export"), {"reason": "核对名单"}, follow=True)
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and UNAVAILABLE in messages[0]
    job = Job.objects.get(user=users["street_a"])
    assert job.status == JobStatus.FAILED and UNAVAILABLE in job.error
    assert reverse("jobs:job_retry", args=[job.pk]) in response.content.decode()
