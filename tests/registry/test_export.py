"""Export of the filtered list: scoped, masked, watermarked, logged; large and full-ID exports in the background."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core import files, jobs, tasks
from apps.core.choices import AccessAction, JobStatus, Role
from apps.core.models import AccessLog, Job
from apps.registry import exporting, services
from apps.registry.models import Code
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran

DATA_START = 5  # title, watermark, filters, header; data from row 5 (1-based)


@pytest.fixture(autouse=True)
def sync_limit(settings):
    settings.REGISTRY_EXPORT_SYNC_MAX_ROWS = 5000


@pytest.fixture
def people(tree):
    cadre = Code.objects.get(kind="category", name="军队转业干部")
    return {
        "a1": make_veteran(tree["village_a1"], name="张伟", phone="13900000001", id_number=id_number("19700305")),
        "a1_cadre": make_veteran(tree["village_a1"], name="李强", primary_category=cadre,
                                 id_number=id_number("19650101")),
        "a2": make_veteran(tree["village_a2"], name="张文", id_number=id_number("19801111")),
        "b1": make_veteran(tree["village_b1"], name="王芳", id_number=id_number("19751212", sequence=22)),
    }


def workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def data_rows(sheet) -> list[dict]:
    headers = [c.value for c in sheet[DATA_START - 1]]
    return [dict(zip(headers, [c.value for c in row], strict=True))
            for row in sheet.iter_rows(min_row=DATA_START)]


def stored(job) -> bytes:
    """A background export's file as it is kept: encrypted at rest, decrypted here."""
    with job.output_file.open("rb") as handle:
        return b"".join(files.decrypt_stream(handle))


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def export(client, data=None, **params):
    url = reverse("registry:veteran_export")
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return client.post(url, data or {})


def test_export_is_scoped_masked_and_watermarked(client, users, people):
    login(client, users["street_a"])
    response = export(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = workbook(content_of(response))
    sheet = book.active
    with translation.override("zh-hans"):
        header = [str(c.header) for c in exporting.COLUMNS]
        assert sheet["A1"].value == _("Veteran list")
        assert sheet["A2"].value.startswith(_("Exported by: %(user)s    Export time: %(time)s").split("%")[0])
    assert "street_a" in sheet["A2"].value and users["street_a"].real_name in sheet["A2"].value
    assert [c.value for c in sheet[4]] == header
    # The print header and footer carry the same watermark.
    assert "street_a" in sheet.oddHeader.right.text and "street_a" in sheet.oddFooter.left.text
    assert "street_a" in book.properties.creator
    rows = data_rows(sheet)
    names = {row[header[0]] for row in rows}
    assert names == {"张伟", "李强", "张文"}  # not 王芳 of street B
    ids = {row[header[3]] for row in rows}
    assert ids == {people[k].id_number_masked for k in ("a1", "a1_cadre", "a2")}
    assert all("********" in value for value in ids)
    raw = content_of(export(client))
    for person in people.values():
        assert person.id_number.encode() not in raw
    zhang = next(row for row in rows if row[header[0]] == "张伟")
    assert zhang[header[4]] == "13900000001"
    assert zhang[header[7]] == "甲一社区"
    assert zhang[header[8]] == "退役士兵"
    assert zhang[header[2]].date().isoformat() == "1970-03-05"


def test_a_sibling_station_never_sees_other_rows(client, users, people):
    login(client, users["street_b"])
    rows = data_rows(workbook(content_of(export(client))).active)
    assert [r[str(exporting.COLUMNS[0].header)] for r in rows] == ["王芳"]
    login(client, users["village_a2"])
    rows = data_rows(workbook(content_of(export(client))).active)
    assert [r[str(exporting.COLUMNS[0].header)] for r in rows] == ["张文"]
    # A unit outside the user's area in the query does not widen the scope (the filter refuses it).
    rows = data_rows(workbook(content_of(export(client, unit=people["b1"].org_unit_id))).active)
    assert "王芳" not in {r[str(exporting.COLUMNS[0].header)] for r in rows}


def test_export_follows_the_list_filters(client, users, tree, people):
    login(client, users["bureau"])
    name = str(exporting.COLUMNS[0].header)

    def names(**params):
        return {r[name] for r in data_rows(workbook(content_of(export(client, **params))).active)}

    assert names() == {"张伟", "李强", "张文", "王芳"}
    assert names(unit=tree["village_a1"].pk) == {"张伟", "李强"}
    assert names(category=Code.objects.get(kind="category", name="军队转业干部").pk) == {"李强"}
    assert names(q="zw") == {"张伟", "张文"}
    assert names(q="13900000001") == {"张伟"}
    assert names(q=people["b1"].id_number) == {"王芳"}
    # Paging parameters of the list page are ignored: the export is the whole filtered list.
    assert names(q="zw", after="bogus") == {"张伟", "张文"}
    sheet = workbook(content_of(export(client, unit=tree["village_a1"].pk))).active
    assert "甲一社区" in sheet["A3"].value  # the filters are written above the header


def test_each_export_is_in_the_access_log(client, users, tree, people):
    login(client, users["street_a"])
    export(client, {"reason": "季度核对"}, unit=tree["village_a1"].pk)
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert entry.user == users["street_a"]
    assert entry.detail["rows"] == 2
    assert entry.detail["filters"] == {"unit": [str(tree["village_a1"].pk)]}
    assert entry.detail["unmasked"] is False
    assert entry.detail["reason"] == "季度核对"
    assert entry.ip_address == "127.0.0.1"


def test_export_page_shows_the_count(client, users, people):
    login(client, users["street_a"])
    response = client.get(reverse("registry:veteran_export"), {"q": "zw"})
    assert response.status_code == 200
    assert response.context["count"] == 2 and not response.context["over"]
    assert 'name="unmasked"' in response.content.decode()  # stations may reveal IDs
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_leadership_may_not_export(client, users, people):
    login(client, users["leader"])
    assert export(client).status_code == 403
    assert client.get(reverse("registry:veteran_export")).status_code == 403


# --- large exports: a reason, then the background -------------------------------------------------


def test_large_export_needs_a_reason(client, users, people, settings):
    settings.REGISTRY_EXPORT_SYNC_MAX_ROWS = 2
    login(client, users["street_a"])
    response = export(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context["over"]
    with translation.override("zh-hans"):
        message = _("Give the reason for this export: it has more rows than can be downloaded at once, or full ID "
                    "numbers.")
    assert message in response.content.decode()
    assert response.context["form"].errors["reason"] == [message]
    assert not Job.objects.exists()
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()
    response = export(client, {"reason": "   "})
    assert not Job.objects.exists()


def test_large_export_runs_in_the_background(client, users, people, settings, django_capture_on_commit_callbacks):
    settings.REGISTRY_EXPORT_SYNC_MAX_ROWS = 2
    login(client, users["street_a"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = export(client, {"reason": "年度统计上报"}, q="zw")
    assert response.status_code == 200  # two rows: at the limit, downloaded at once
    assert not callbacks
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = export(client, {"reason": "年度统计上报"})
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_list")
    assert len(callbacks) == 1
    job = Job.objects.get()
    assert (job.user, job.kind, job.reason, job.status) == (users["street_a"], exporting.JOB_KIND, "年度统计上报",
                                                            JobStatus.DONE)
    assert job.progress == job.total == 3 and job.result["rows"] == 3
    assert job.output_file.name.endswith(".xlsx.enc") and job.output_encrypted
    rows = data_rows(workbook(stored(job)).active)
    assert {r[str(exporting.COLUMNS[0].header)] for r in rows} == {"张伟", "李强", "张文"}
    entry = AccessLog.objects.get(action=AccessAction.EXPORT, detail__job=job.pk)
    assert entry.detail["reason"] == "年度统计上报" and entry.detail["rows"] == 3
    assert entry.user == users["street_a"] and entry.detail["requested_from"] == "127.0.0.1"


def test_progress_is_reported_every_few_thousand_rows(users, monkeypatch):
    monkeypatch.setattr(exporting, "PROGRESS_EVERY", 2)
    row = tuple("x" if c.kind == "text" else None for c in exporting.COLUMNS)
    seen = []
    count = exporting.write_xlsx(io.BytesIO(), [row] * 5, user=users["bureau"], when=timezone.now(), filters=[],
                                 progress=seen.append)
    assert count == 5 and seen == [2, 4]


def test_the_task_is_safe_to_run_twice(users, people):
    job = exporting.export_job_start(actor=users["street_a"], params={}, unmasked=False, reason="核对")
    assert tasks.run_job(job.pk)["rows"] == 3
    job.refresh_from_db()
    first = (job.output_file.name, job.finished_at)
    assert tasks.run_job(job.pk) == {"job": job.pk, "skipped": True}  # redelivered after success
    job.refresh_from_db()
    assert (job.output_file.name, job.finished_at) == first
    # A job interrupted while running (worker lost: its message is redelivered) is run again from the start;
    # a second copy of the message while it runs is skipped.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=1)
    assert tasks.run_job(job.pk) == {"job": job.pk, "skipped": True}
    assert jobs.job_run(job.pk, redelivered=True).status == JobStatus.DONE
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.progress == 3
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 2


def test_a_failing_export_marks_the_job_failed_with_a_reason(users, people, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exporting, "write_xlsx", broken)
    job = exporting.export_job_start(actor=users["street_a"], params={}, unmasked=False, reason="核对")
    with translation.override("zh-hans"):
        tasks.run_job(job.pk)
        expected = _("The export failed: %(error)s") % {"error": "disk full"}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == expected and job.finished_at is not None
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_background_job_keeps_the_scope_of_its_owner(users, people):
    job = exporting.export_job_start(actor=users["street_b"], params={}, unmasked=False, reason="核对")
    tasks.run_job(job.pk)
    job.refresh_from_db()
    rows = data_rows(workbook(stored(job)).active)
    assert [r[str(exporting.COLUMNS[0].header)] for r in rows] == ["王芳"]


# --- full ID numbers ------------------------------------------------------------------------------


@pytest.fixture
def exporter(make_user):
    """A district-wide reader who was also given the export permission, but not the reveal one."""
    from apps.core.choices import Role
    from apps.core.models import User

    group = Group.objects.create(name="测试-导出")
    group.permissions.set(Permission.objects.filter(content_type__app_label="registry", codename="export_veteran"))
    user = make_user(Role.LEADER, None, "exporter")
    user.groups.add(group)
    return User.objects.get(pk=user.pk)


def test_unmasked_export_is_refused_without_the_reveal_permission(client, exporter, people,
                                                                   django_capture_on_commit_callbacks):
    assert exporter.has_perm("registry.export_veteran") and not exporter.has_perm("registry.reveal_id_number")
    client.force_login(exporter)
    page = client.get(reverse("registry:veteran_export"))
    assert page.status_code == 200 and 'name="unmasked"' not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = export(client, {"unmasked": "on", "reason": "想看全号"})
    assert response.status_code == 403
    assert not Job.objects.exists()
    with pytest.raises(PermissionDenied):
        exporting.export_job_start(actor=exporter, params={}, unmasked=True, reason="想看全号")
    # The task checks again: a job that asks for full numbers fails for a user who may not see them.
    job = Job.objects.create(kind=exporting.JOB_KIND, user=exporter, title="x", reason="r",
                             params={"query": "", "unmasked": True})
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not job.output_file


def test_unmasked_export_needs_a_reason_and_runs_in_the_background(client, users, people,
                                                                   django_capture_on_commit_callbacks):
    login(client, users["street_a"])
    response = export(client, {"unmasked": "on"})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = export(client, {"unmasked": "on", "reason": "办理优待证核验"}, q="zw")
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == JobStatus.DONE and job.params["unmasked"] is True
    content = stored(job)
    rows = data_rows(workbook(content).active)
    id_header = str(exporting.COLUMNS[3].header)
    assert {r[id_header] for r in rows} == {people["a1"].id_number, people["a2"].id_number}
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert entry.detail["unmasked"] is True and entry.detail["reason"] == "办理优待证核验"


# --- a real worker --------------------------------------------------------------------------------


@pytest.mark.celery_worker
def test_export_runs_on_a_real_worker(celery_worker, users, tree):
    # No code-table values: an earlier transactional test's flush may have emptied the seeded tables.
    for unit, name, birth in [("village_a1", "张伟", "19700305"), ("village_a2", "张文", "19801111"),
                              ("village_b1", "张卫", "19751212")]:
        services.veteran_register(actor=None, id_number=id_number(birth), org_unit=tree[unit], name=name)
    job = Job.objects.create(kind=exporting.JOB_KIND, user=users["street_a"], title="导出", reason="真实队列",
                             params={"query": "q=zw", "unmasked": False})
    result = tasks.run_job.apply_async(args=[job.pk], queue=celery_worker["queue"])
    assert result.get(timeout=60) == {"job": job.pk, "status": JobStatus.DONE, "rows": 2}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == JobStatus.DONE:
            break
        time.sleep(0.2)
    assert job.status == JobStatus.DONE and job.progress == 2
    rows = data_rows(workbook(stored(job)).active)
    assert {r[str(exporting.COLUMNS[0].header)] for r in rows} == {"张伟", "张文"}


# --- files that outlive permissions (issue 10, finding 5) ------------------------------------------


def _full_id_export(client, user, django_capture_on_commit_callbacks, **params) -> Job:
    login(client, user)
    with django_capture_on_commit_callbacks(execute=True):
        response = export(client, {"unmasked": "on", "reason": "办理优待证核验"}, **params)
    assert response.status_code == 302
    job = Job.objects.filter(user=user).latest("pk")
    assert job.status == JobStatus.DONE, job.error
    return job


def test_a_full_id_export_follows_its_owner_s_role_and_area(client, users, tree, people,
                                                             django_capture_on_commit_callbacks):
    owner = users["street_a"]
    job = _full_id_export(client, owner, django_capture_on_commit_callbacks)
    assert job.grant_permissions == sorted(["registry.view_veteran", "registry.export_veteran",
                                            "registry.reveal_id_number"])
    assert job.grant_scope == tree["street_a"].path
    url = reverse("jobs:job_download", args=[job.pk])
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = data_rows(workbook(b"".join(response.streaming_content)).active)
    assert people["a1"].id_number in {r[str(exporting.COLUMNS[3].header)] for r in rows}

    street_role = Group.objects.get(name=Role.STREET_STATION.value)
    owner.groups.clear()  # the role is taken away
    assert client.get(url).status_code == 404
    page = client.get(reverse("jobs:job_list")).content.decode()
    assert url not in page and "job-refused" in page
    owner.groups.add(street_role)
    owner.org_unit = tree["street_b"]  # the role is back, for another street
    owner.save(update_fields=["org_unit"])
    assert client.get(url).status_code == 404
    owner.org_unit = tree["village_a1"]  # a narrower area than the file's
    owner.save(update_fields=["org_unit"])
    assert client.get(url).status_code == 404
    owner.org_unit = tree["street_a"]
    owner.save(update_fields=["org_unit"])
    assert client.get(url).status_code == 200
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD, object_id=str(job.pk)).count() == 2


def test_a_full_id_export_needs_the_reveal_permission_at_download(client, users, people, exporter,
                                                                  django_capture_on_commit_callbacks):
    """Losing only the permission to see full ID numbers closes the full-number file, not a masked one."""
    owner = users["bureau"]
    unmasked = _full_id_export(client, owner, django_capture_on_commit_callbacks)
    masked = exporting.export_job_start(actor=owner, params={}, unmasked=False, reason="核对")
    tasks.run_job(masked.pk)
    owner.groups.set([Group.objects.get(name="测试-导出"), Group.objects.get(name=Role.LEADER.value)])
    owner = type(owner).objects.get(pk=owner.pk)  # permissions are cached per user object
    assert owner.has_perm("registry.export_veteran") and not owner.has_perm("registry.reveal_id_number")
    assert client.get(reverse("jobs:job_download", args=[unmasked.pk])).status_code == 404
    assert client.get(reverse("jobs:job_download", args=[masked.pk])).status_code == 200


def test_export_files_are_encrypted_at_rest_under_random_names(client, users, people, settings,
                                                               django_capture_on_commit_callbacks):
    first = _full_id_export(client, users["street_a"], django_capture_on_commit_callbacks)
    second = _full_id_export(client, users["street_a"], django_capture_on_commit_callbacks)
    for job in (first, second):
        name = Path(job.output_file.name).name
        assert re.fullmatch(r"[0-9a-f]{32}\.xlsx\.enc", name), name
        raw = Path(job.output_file.path).read_bytes()
        assert raw.startswith(files.MAGIC) and not zipfile.is_zipfile(io.BytesIO(raw))
        assert people["a1"].id_number.encode() not in raw and "张伟".encode() not in raw
        assert job.output_encrypted and job.result["filename"].endswith(".xlsx")
    assert first.output_file.name != second.output_file.name
    # Without the key the file is unreadable: the download answers 404 and nothing is logged as downloaded.
    settings.FIELD_ENCRYPTION_KEY = "another-key"
    assert client.get(reverse("jobs:job_download", args=[first.pk])).status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.DOWNLOAD).exists()


def test_an_expired_export_is_not_written_again(users, people, django_capture_on_commit_callbacks):
    job = exporting.export_job_start(actor=users["street_a"], params={}, unmasked=False, reason="核对")
    tasks.run_job(job.pk)
    with django_capture_on_commit_callbacks(execute=True):
        files.job_expire(job.pk)
    assert tasks.run_job(job.pk) == {"job": job.pk, "skipped": True}  # a late redelivery
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not job.output_file
