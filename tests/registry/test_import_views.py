"""Import pages and jobs: upload → preview → confirm, the error workbook, the template, the background path
(eager and on a real Celery worker), re-runs and failures."""

from __future__ import annotations

import importlib
import io
import time
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.core import files, jobs, tasks
from apps.core.choices import AccessAction, JobStatus
from apps.core.imports import jobs as import_jobs
from apps.core.models import AccessLog, Job
from apps.registry import importing
from apps.registry.models import Veteran
from tests import redis_fault
from tests.conftest import wait_for_job
from tests.registry.test_import import HEADER, person, rezip, write_xlsx

private_redis = redis_fault.private_redis  # a fixture: a Redis of our own that the tests stop


@pytest.fixture(autouse=True)
def media(settings, tmp_path, monkeypatch):
    folder = tmp_path / "media"
    settings.MEDIA_ROOT = folder
    monkeypatch.setenv("MEDIA_ROOT", str(folder))  # a real worker started by the test shares the folder


def upload(client, path, **data):
    with open(path, "rb") as handle:
        return client.post(reverse("registry:import_upload"), {"file": handle, **data})


def sheet(tmp_path, *rows, name="花名册.xlsx"):
    return write_xlsx(tmp_path / name, [["甲一社区退役军人花名册"], HEADER, *rows])


def test_upload_preview_confirm(login_as, users, tmp_path):
    client = login_as(users["village_a1"])
    assert client.get(reverse("registry:import_upload")).status_code == 200
    path = sheet(tmp_path, person("张伟", sequence=301), person("李娜", 民族="汉人"), person("王强", sequence=303))
    response = upload(client, path)
    job = Job.objects.get(kind=importing.JOB_KIND)
    assert response.status_code == 302 and response["Location"] == reverse("registry:import_detail", args=[job.pk])
    assert (job.status, job.params["phase"], job.user) == (JobStatus.DONE, "preview", users["village_a1"])
    assert job.input_file and job.output_file
    # The uploaded sheet holds full ID numbers: kept encrypted under a random name, never as the plain workbook.
    stored = Path(job.input_file.path).read_bytes()
    assert stored.startswith(files.MAGIC) and b"PK" not in stored[:64] and "花名册" not in job.input_file.name
    with job.input_file.open("rb") as handle:
        assert b"".join(files.decrypt_stream(handle)) == path.read_bytes()
    page = client.get(response["Location"]).content.decode()
    assert 'data-count="rows">3<' in page and 'data-count="errors">1<' in page and 'data-count="created">2<' in page
    assert "汉人" in page and 'id="import-confirm"' in page and 'id="import-error-workbook"' in page
    assert Veteran.objects.count() == 0
    response = client.post(reverse("registry:import_confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.params["phase"], job.result["created"], job.result["committed"]) == ("done", "commit", 2,
                                                                                                 True)
    assert set(Veteran.objects.values_list("name", flat=True)) == {"张伟", "王强"}
    page = client.get(reverse("registry:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-result"' in page and 'id="import-confirm"' not in page
    # confirmed once only
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    assert Veteran.objects.count() == 2
    listing = client.get(reverse("registry:import_upload")).content.decode()
    assert "花名册.xlsx" in listing


def test_error_workbook_download_is_logged(login_as, users, tmp_path):
    client = login_as(users["village_a1"])
    upload(client, sheet(tmp_path, person("张伟"), person("李娜", 公民身份号码="123")))
    job = Job.objects.get(kind=importing.JOB_KIND)
    response = client.get(reverse("registry:import_errors", args=[job.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws.cell(2, len(HEADER) + 1).value == "错误原因"
    assert ws.cell(4, len(HEADER) + 1).value.startswith("公民身份号码")
    log = AccessLog.objects.get(action=AccessAction.DOWNLOAD)
    assert (log.user, log.object_id) == (users["village_a1"], str(job.pk))


def test_all_or_nothing_cannot_be_confirmed_with_bad_rows(login_as, users, tmp_path):
    client = login_as(users["village_a1"])
    upload(client, sheet(tmp_path, person("张伟"), person("李娜", 性别="X")), atomic="on")
    job = Job.objects.get(kind=importing.JOB_KIND)
    page = client.get(reverse("registry:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-confirm"' not in page and 'id="import-no-confirm"' in page
    response = client.post(reverse("registry:import_confirm", args=[job.pk]), follow=True)
    assert response.status_code == 200 and Veteran.objects.count() == 0
    job.refresh_from_db()
    assert job.params["phase"] == "preview"


def test_upload_refuses_other_files_and_units(login_as, users, tree, tmp_path):
    client = login_as(users["village_a1"])
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4")
    assert "xlsx" in upload(client, path).content.decode()
    response = upload(client, sheet(tmp_path, person("张伟")), unit=tree["village_b1"].pk)
    assert response.status_code == 200 and not Job.objects.exists()


def test_a_zip_bomb_upload_is_refused_in_chinese_without_a_job(login_as, users, tmp_path):
    """A 600 KB xlsx declaring 600 MB of content: refused from its zip directory, with a clear message."""
    client = login_as(users["village_a1"])
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(rezip(sheet(tmp_path, person("张伟", sequence=311)), padding=600 << 20))
    response = upload(client, path)
    assert response.status_code == 200 and not Job.objects.exists()
    assert "该工作簿打开后展开为 600 MB，超过导入可读取的 500 MB" in response.content.decode()


def test_a_small_sheet_with_large_content_is_read_in_the_background(login_as, users, tmp_path, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.REGISTRY_IMPORT_SYNC_MAX_MB = 0  # any content is "large"; two rows are few
    client = login_as(users["village_a1"])
    with django_capture_on_commit_callbacks() as callbacks:
        upload(client, sheet(tmp_path, person("张伟", sequence=313), person("李娜", sequence=315)))
    job = Job.objects.get(kind=importing.JOB_KIND)
    assert (job.status, job.total, job.params["background"], len(callbacks)) == (JobStatus.PENDING, 4, True, 1)
    callbacks[0]()  # the task, eager
    job.refresh_from_db()
    assert (job.status, job.result["valid"]) == (JobStatus.DONE, 2)


def test_template(login_as, users, tree):
    client = login_as(users["village_a1"])
    response = client.get(reverse("registry:import_template"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["退役军人信息", "填写说明", "代码表"]
    data, lists = workbook["退役军人信息"], workbook["代码表"]
    assert lists.sheet_state == "hidden"
    headers = [c.value for c in data[1]]
    assert headers == [c.header for c in importing.COLUMNS]
    formulas = {str(v.sqref).split(":")[0]: v.formula1 for v in data.data_validations.dataValidation}
    ethnic = data.cell(1, headers.index("民族") + 1).column_letter
    assert "代码表" in formulas[f"{ethnic}2"]
    sex = data.cell(1, headers.index("性别") + 1).column_letter
    assert formulas[f"{sex}2"] == '"男,女"'
    listed = {lists.cell(1, c).value: [lists.cell(r, c).value for r in range(2, lists.max_row + 1)
                                       if lists.cell(r, c).value] for c in range(1, lists.max_column + 1)}
    assert listed["所属村(社区)"] == ["320111001001 甲一社区"]  # only the units the user may see
    assert "汉族" in listed["民族"] and len(listed["民族"]) == 56
    id_letter = data.cell(1, headers.index("公民身份号码") + 1).column_letter
    assert data.column_dimensions[id_letter].number_format == "@"
    assert workbook["填写说明"].max_row > len(importing.COLUMNS)
    # the template, filled in, imports as it is
    row = person("张伟")
    for column, value in zip(HEADER, row, strict=True):
        data.cell(2, headers.index(column) + 1, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = importing.import_job_create(actor=users["village_a1"],
                                      upload=SimpleUploadedFile("模板.xlsx", buffer.getvalue()))
    importing.import_job_dispatch(job)
    job.refresh_from_db()
    assert (job.result["valid"], job.result["errors"]) == (1, 0), job.result


def test_large_imports_run_in_the_background_with_progress(login_as, users, tmp_path, settings,
                                                           django_capture_on_commit_callbacks):
    settings.REGISTRY_IMPORT_SYNC_MAX_ROWS = 3
    client = login_as(users["village_a1"])
    rows = [person(f"张{i}", sequence=400 + i) for i in range(5)]
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(client, sheet(tmp_path, *rows))
    job = Job.objects.get(kind=importing.JOB_KIND)
    assert job.status == JobStatus.PENDING and job.total == 7 and len(callbacks) == 1
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-progress"' in page and "hx-trigger=\"every 1s\"" in page
    progress = client.get(reverse("registry:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and "HX-Refresh" not in progress
    callbacks[0]()  # the task, eager
    job.refresh_from_db()
    assert (job.status, job.result["valid"], job.progress) == (JobStatus.DONE, 5, 7)
    progress = client.get(reverse("registry:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.params["phase"], job.result["created"]) == (JobStatus.DONE, "commit", 5)
    assert Veteran.objects.count() == 5


def _job(users, tmp_path, *rows, phase="preview"):
    path = sheet(tmp_path, *rows)
    job = importing.import_job_create(actor=users["village_a1"], upload=SimpleUploadedFile(path.name,
                                                                                           path.read_bytes()))
    job.params = {**job.params, "phase": phase}
    job.save(update_fields=["params"])
    return job


def test_the_task_is_safe_to_run_again(users, tmp_path):
    job = _job(users, tmp_path, person("张伟", sequence=501), person("李娜", 性别="X"), phase="commit")
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.result["created"]) == (JobStatus.DONE, 1)
    events = Veteran.objects.get().events.count()
    # a redelivered message after the job finished: nothing happens
    assert tasks.run_job(job.pk) == {"job": job.pk, "skipped": True}
    assert jobs.job_run(job.pk, redelivered=True) is None
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    # the worker died after the write was committed but before the job was marked done (its message redelivered)
    job.status, job.output_file = JobStatus.RUNNING, ""
    job.save(update_fields=["status", "output_file"])
    jobs.job_run(job.pk, redelivered=True)
    job.refresh_from_db()
    assert (job.status, job.result["created"]) == (JobStatus.DONE, 1) and job.output_file
    assert Veteran.objects.count() == 1 and Veteran.objects.get().events.count() == events
    # the worker died before the write was committed: the re-run writes (upserts) it all
    job2 = _job(users, tmp_path, person("张伟", sequence=501), person("王强", sequence=503), phase="commit")
    job2.status = JobStatus.RUNNING
    job2.save(update_fields=["status"])
    jobs.job_run(job2.pk, redelivered=True)
    job2.refresh_from_db()
    assert (job2.status, job2.result["created"], job2.result["updated"]) == (JobStatus.DONE, 1, 1)
    assert Veteran.objects.count() == 2


def test_failures_are_kept_on_the_job_with_a_reason(users, tmp_path, monkeypatch, login_as):
    job = importing.import_job_create(actor=users["village_a1"],
                                      upload=SimpleUploadedFile("x.csv", "随便,什么\r\n1,2\r\n".encode()))
    importing.import_job_run(job_pk=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "公民身份号码" in job.error
    page = login_as(users["village_a1"]).get(reverse("registry:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-failed"' in page

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    job = _job(users, tmp_path, person("张伟"))
    monkeypatch.setattr(import_jobs, "run_import", boom)
    importing.import_job_run(job_pk=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "disk" not in job.error and job.error


def test_a_failed_import_can_be_retried_from_the_download_centre(users, tmp_path, login_as, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    job = _job(users, tmp_path, person("张伟", sequence=601))
    job.status, job.error = JobStatus.FAILED, "断电"
    job.save(update_fields=["status", "error"])
    client = login_as(users["village_a1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:job_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.result["valid"]) == (JobStatus.DONE, 1)


def test_someone_elses_import_is_not_found(login_as, users, tmp_path):
    job = _job(users, tmp_path, person("张伟"))
    client = login_as(users["village_a2"])
    for name in ("registry:import_detail", "registry:import_progress", "registry:import_errors"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("registry:import_confirm", args=[job.pk])).status_code == 404


@pytest.fixture
def codes(transactional_db):
    """The seeded code tables: an earlier transactional test's flush may have emptied them."""
    from django.apps import apps

    importlib.import_module("apps.registry.migrations.0002_seed_code_tables").seed(apps, None)


@pytest.mark.celery_worker
def test_import_on_a_real_worker(media, codes, celery_worker, users, tmp_path):
    """The task travels through Redis to a worker process that writes to the test database."""
    job = _job(users, tmp_path, person("张伟", sequence=701), person("李娜", 公民身份号码="123"), phase="commit")
    tasks.run_job.apply_async(args=[job.pk], queue=celery_worker["queue"])
    wait_for_job(job)
    assert (job.status, job.error) == (JobStatus.DONE, "")
    assert (job.result["created"], job.result["errors"], job.result["committed"]) == (1, 1, True)
    assert job.output_file and Veteran.objects.get().name == "张伟"


# --- background imports above the threshold, on a real worker; Redis down (issue 10, findings 16, 20) ----------


@pytest.fixture
def routed_to_test_worker(celery_worker, monkeypatch):
    """Tasks the portal queues by route or by job kind (imports → "imports") go to the test's own worker instead."""
    for name, spec in jobs.registered().items():
        monkeypatch.setitem(jobs._KINDS, name, replace(spec, queue=celery_worker["queue"]))
    app = celery_worker["app"]
    saved = app.conf.task_routes
    app.conf.task_routes = {"*": {"queue": celery_worker["queue"]}}
    app.amqp.flush_routes()
    del app.amqp.router
    yield celery_worker
    app.conf.task_routes = saved
    app.amqp.flush_routes()
    del app.amqp.router


def _wait_done(job, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job still {job.status} at {job.progress}/{job.total}: it never finished")


def _big_sheet(tmp_path, rows: int):
    from datetime import date, timedelta

    first = date(1960, 1, 1)
    people = [person(f"赵{n}", birth=(first + timedelta(days=n)).strftime("%Y%m%d"), sequence=11)
              for n in range(rows)]
    return sheet(tmp_path, *people, name="大花名册.xlsx")


@pytest.mark.celery_worker
def test_a_sheet_above_the_threshold_finishes_on_a_real_worker(media, codes, routed_to_test_worker, users, tmp_path,
                                                                settings, login_as):
    """Above REGISTRY_IMPORT_SYNC_MAX_ROWS the preview and the write run on a worker, with progress written on a
    second connection of the worker's own: both phases reach "done" (they stayed "running 100%" for ever)."""
    rows = settings.REGISTRY_IMPORT_SYNC_MAX_ROWS + 50
    path = _big_sheet(tmp_path, rows)
    client = login_as(users["village_a1"])
    response = upload(client, path)
    job = Job.objects.get(kind=importing.JOB_KIND)
    assert response.status_code == 302 and job.total > settings.REGISTRY_IMPORT_SYNC_MAX_ROWS
    _wait_done(job)
    assert (job.status, job.error, job.result["valid"]) == (JobStatus.DONE, "", rows)
    assert job.heartbeat_at is not None and job.progress == job.total  # the progress writer wrote
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    _wait_done(job)
    assert (job.status, job.error, job.params["phase"]) == (JobStatus.DONE, "", "commit")
    assert (job.result["created"], job.result["committed"]) == (rows, True)
    assert Veteran.objects.count() == rows
    page = client.get(reverse("registry:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-progress"' not in page


def test_a_background_import_with_redis_down_says_so(transactional_db, codes, login_as, users, tmp_path, settings,
                                                     private_redis):
    """Committed as in production (no test transaction): the job is failed at once and the page says why."""
    settings.REGISTRY_IMPORT_SYNC_MAX_ROWS = 3
    client = login_as(users["village_a1"])
    client.get(reverse("registry:import_upload"))  # templates compiled: the time below is the upload's
    private_redis.stop()
    started = time.monotonic()
    response = upload(client, sheet(tmp_path, *[person(f"张{i}", sequence=800 + i) for i in range(5)]))
    assert time.monotonic() - started < 5  # a fault check, not a speed figure
    assert response.status_code == 302
    job = Job.objects.get(kind=importing.JOB_KIND)
    assert job.status == JobStatus.FAILED and "后台服务暂不可用" in job.error
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-failed"' in page and "后台服务暂不可用" in page
    assert 'hx-trigger="every 1s"' not in page  # not waiting for ever


def test_an_import_whose_worker_died_stops_waiting(login_as, users, tmp_path, settings):
    """The worker was killed mid-import (the job says "running" for ever): once it has been silent for
    JOB_STUCK_AFTER_MINUTES the progress poll ends it as failed, and its owner can run it again."""
    from datetime import timedelta

    from django.utils import timezone

    job = _job(users, tmp_path, person("张伟", sequence=901))
    job.status, job.heartbeat_at = JobStatus.RUNNING, timezone.now() - timedelta(minutes=settings.JOB_STUCK_AFTER_MINUTES + 1)
    job.save(update_fields=["status", "heartbeat_at"])
    client = login_as(users["village_a1"])
    progress = client.get(reverse("registry:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error
    page = client.get(reverse("registry:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-failed"' in page and job.error in page


@pytest.mark.celery_worker
def test_an_import_on_a_killed_worker_is_failed_and_run_again(media, codes, routed_to_test_worker, users, tmp_path,
                                                               settings, login_as):
    """SIGKILL the worker in the middle of a background import: the job no longer says "running" for ever.
    Silent past JOB_STUCK_AFTER_MINUTES, it is failed with a reason when its owner looks, and retried."""
    import os
    import signal

    path = _big_sheet(tmp_path, settings.REGISTRY_IMPORT_SYNC_MAX_ROWS + 50)
    client = login_as(users["village_a1"])
    upload(client, path)
    job = Job.objects.get(kind=importing.JOB_KIND)
    deadline = time.monotonic() + 120
    while not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists():
        assert time.monotonic() < deadline, "the import did not start"
        time.sleep(0.05)
    worker = routed_to_test_worker["process"]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    settings.JOB_STUCK_AFTER_MINUTES = 0  # "long ago" for this test
    page = client.get(reverse("jobs:job_list")).content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error in page
    settings.JOB_STUCK_AFTER_MINUTES = 30
    client.post(reverse("jobs:job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.error == ""  # queued again (no worker left in this test)
