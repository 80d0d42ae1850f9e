"""The monthly work report: what it prints (equal to the figure store), its font and charts, who receives it,
who may download it, notifications once, expiry, the page, and the monthly task on a real Celery worker."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core import figures, files
from apps.core.choices import JobStatus
from apps.core.figures import Period
from apps.core.models import Job, Notification
from apps.reports import tasks
from apps.reports.monthly import (
    JOB_KIND,
    last_month,
    monthly_content,
    monthly_html,
    monthly_pdf,
    monthly_recipients,
    monthly_reports_build,
    shown,
)
from tests.conftest import login
from tests.reports.monthly_fixtures import test_figures  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
PERIOD = last_month()


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def stored_pdf(job: Job) -> bytes:
    with job.output_file.open("rb") as handle:
        return b"".join(files.decrypt_stream(handle))


def built(users) -> dict[str, Job]:
    """Each recipient's monthly report job, by user name."""
    return {job.user.username: job for job in Job.objects.filter(kind=JOB_KIND).select_related("user")}


@pytest.fixture
def district_pdf(tree, test_figures):  # noqa: F811
    pdf, report = monthly_pdf(unit=tree["district"], period=PERIOD)
    return pdf, report


def test_the_district_report_prints_the_figures_the_store_reads(district_pdf, tree, test_figures, tmp_path):  # noqa: F811
    pdf, report = district_pdf
    text = pdf_text(pdf, tmp_path)
    units = [tree[name].pk for name in ("district", "street_a", "street_b", "village_a1", "village_a2", "village_b1")]
    periods = [PERIOD, PERIOD.previous(), PERIOD.same_last_year()]
    readings = figures.read(test_figures, periods, units)
    assert "月度工作报告" in text and "测试区" in text and PERIOD.key in text
    lines = {line.key: line for section in report.sections for line in section.lines}
    for figure in test_figures:
        now = readings[(figure.key, PERIOD.key, tree["district"].pk)]
        assert lines[figure.key].current == shown(now)
        assert lines[figure.key].previous == shown(readings[(figure.key, PERIOD.previous().key, tree["district"].pk)])
        assert lines[figure.key].last_year == shown(readings[(figure.key, PERIOD.same_last_year().key, tree["district"].pk)])
        row = next(line for line in text.splitlines() if line.strip().startswith(str(figure.label)))
        assert shown(now) in row, (figure.key, row)
    # the direct figures of the fixtures, written out: 1000+m + 500+m + 300+2m people on the register
    m = PERIOD.start.month + 12 * (PERIOD.start.year - 2000)
    assert f"{1800 + 4 * m:,}" in text
    # tables by street and by village: every unit named with its own figure
    for name in ("street_a", "street_b", "village_a1", "village_a2", "village_b1"):
        value = shown(readings[("test.veterans", PERIOD.key, tree[name].pk)])
        assert any(tree[name].name in line and value in line for line in text.splitlines()), name
    # breakdown buckets by their labels, ratio as a percentage, nothing due as "—"
    assert "男" in text and "女" in text
    assert shown(readings[("test.coverage", PERIOD.key, tree["district"].pk)]).endswith("%")
    assert readings[("test.coverage", PERIOD.key, tree["street_b"].pk)].shown is None


def test_the_pdf_embeds_the_shipped_font_only(district_pdf, tmp_path):
    pdf, _report = district_pdf
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    fonts = [line.split()[0] for line in listing.splitlines()[2:] if line.strip()]
    assert fonts and all("Portal-Sans-SC" in font for font in fonts), listing
    assert all(" yes " in line for line in listing.splitlines()[2:] if line.strip())  # embedded


def test_charts_are_svg_with_their_glyphs_drawn_as_paths(district_pdf, tmp_path):
    _pdf, report = district_pdf
    assert len(report.charts) >= 3  # the sex breakdown, one per group by street
    for chart in report.charts:
        assert chart.startswith("<svg") and "<path" in chart
        assert "<text" not in chart and "font-family" not in chart  # no font needed to draw it
    html = monthly_html(report)
    assert html.count("<svg") == len(report.charts)
    # ids are prefixed per chart: two charts in one page never share one
    assert 'id="c1-' in html and 'id="c2-' in html
    if shutil.which("pdftoppm"):
        path = tmp_path / "report.pdf"
        path.write_bytes(_pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
        assert (tmp_path / "p-1.png").stat().st_size > 5000


def test_a_street_report_covers_its_street_only(tree, test_figures, tmp_path):  # noqa: F811
    pdf, report = monthly_pdf(unit=tree["street_a"], period=PERIOD)
    text = pdf_text(pdf, tmp_path)
    assert "甲一社区" in text and "甲二村" in text
    assert "乙街道" not in text and "乙一社区" not in text
    assert not report.village_tables  # its villages are its children: one table each group
    reading = figures.read(["test.veterans"], [PERIOD], [tree["street_a"].pk])[("test.veterans", PERIOD.key, tree["street_a"].pk)]
    assert shown(reading) in text


def test_a_month_with_no_figures_prints_zeros_not_errors(tree, test_figures, tmp_path):  # noqa: F811
    report = monthly_content(unit=tree["district"], period=Period.parse("2001-01"), with_charts=False)
    assert {line.key: line.current for s in report.sections for line in s.lines}["test.money"] == "0.00"


def test_recipients_are_leadership_and_the_street_s_own_station(users, tree):
    assert [u.username for u in monthly_recipients(tree["district"])] == ["leader"]
    assert [u.username for u in monthly_recipients(tree["street_a"])] == ["street_a"]
    assert [u.username for u in monthly_recipients(tree["street_b"])] == ["street_b"]
    assert monthly_recipients(tree["village_a1"]) == []


def test_the_monthly_build_hands_each_recipient_a_copy_and_notifies_once(users, tree, test_figures):  # noqa: F811
    street_a2 = users["street_a"].__class__.objects.get(pk=users["street_a"].pk)
    from apps.core.choices import Role
    from apps.core.services import user_create

    second = user_create(actor=None, username="street_a_two", password="Test#Passw0rd", real_name="甲街道二",
                         org_unit=tree["street_a"], roles=[Role.STREET_STATION])
    result = monthly_reports_build(period=PERIOD)
    assert result == {"period": PERIOD.key, "jobs": 3, "built": 3, "failed": 0}
    jobs = built(users)
    assert set(jobs) == {"leader", "street_a", "street_a_two", "street_b"}
    for name, job in jobs.items():
        assert job.status == JobStatus.DONE and job.output_file and job.output_encrypted, name
        assert stored_pdf(job).startswith(b"%PDF-")
        assert job.grant_permissions == ["reports.view_monthly_report"]
    assert jobs["leader"].grant_scope == tree["district"].path
    assert jobs["street_a_two"].grant_scope == jobs["street_a"].grant_scope == tree["street_a"].path
    assert jobs["street_a_two"].params["copy_of"] == jobs["street_a"].pk  # rendered once, copied
    assert Notification.objects.filter(recipient=second).count() == 1
    note = Notification.objects.get(recipient=street_a2)
    assert PERIOD.key in note.title and "甲街道" in note.title and note.link.startswith(reverse("reports:monthly"))
    assert not Notification.objects.filter(recipient__in=[users["admin"], users["bureau"], users["village_a1"]]).exists()

    # Run again (a retried beat message): nothing new, nobody notified twice.
    again = monthly_reports_build(period=PERIOD)
    assert again == {"period": PERIOD.key, "jobs": 3, "built": 0, "failed": 0}
    assert Job.objects.filter(kind=JOB_KIND).count() == 4
    assert Notification.objects.count() == 4
    # A failed build rebuilt (the owner's retry): copies replaced, no second notification.
    Job.objects.filter(pk=jobs["street_a"].pk).update(status=JobStatus.FAILED)
    from apps.core.jobs import job_run

    assert job_run(jobs["street_a"].pk).status == JobStatus.DONE
    assert Job.objects.filter(kind=JOB_KIND).count() == 4
    assert Notification.objects.count() == 4


def test_a_street_user_cannot_download_another_street_s_report(client, users, tree, test_figures):  # noqa: F811
    monthly_reports_build(period=PERIOD)
    jobs = built(users)
    login(client, users["street_a"])
    own = client.get(reverse("jobs:job_download", args=[jobs["street_a"].pk]))
    assert own.status_code == 200 and b"".join(own.streaming_content).startswith(b"%PDF-")
    for other in ("street_b", "leader"):
        assert client.get(reverse("jobs:job_download", args=[jobs[other].pk])).status_code == 404
    # Moved to street B, the user keeps the file's row but no longer its content.
    users["street_a"].org_unit = tree["street_b"]
    users["street_a"].save(update_fields=["org_unit"])
    assert client.get(reverse("jobs:job_download", args=[jobs["street_a"].pk])).status_code == 404


def test_the_page_lists_own_reports_with_their_expiry_and_the_centre_shows_it(client, users, test_figures):  # noqa: F811
    monthly_reports_build(period=PERIOD)
    job = built(users)["street_a"]
    login(client, users["street_a"])
    page = client.get(reverse("reports:monthly"), {"period": PERIOD.key}).content.decode()
    expires = timezone.localtime(files.job_expires_at(job))
    kept_until = expires.strftime("%Y-%m-%d %H:%M")
    assert f'{expires:%Y-%m-%d} <span class="text-nowrap">{expires:%H:%M}</span>' in page
    assert job.title in page and reverse("jobs:job_download", args=[job.pk]) in page
    assert "乙街道" not in page
    assert 'id="monthly-build"' not in page  # build now: administrators and bureau staff only
    centre = client.get(reverse("jobs:job_list")).content.decode()
    assert "job-expiry" in centre and kept_until in centre


def test_expiry_deletes_the_pdf(client, users, test_figures, django_capture_on_commit_callbacks, settings):  # noqa: F811
    monthly_reports_build(period=PERIOD)
    job = built(users)["street_a"]
    name = job.output_file.name
    storage = job.output_file.storage
    assert storage.exists(name)
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=settings.GENERATED_FILES_TTL_DAYS, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        result = files.generated_files_expire()
    assert result.files >= 1
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not job.output_file and not storage.exists(name)
    login(client, users["street_a"])
    assert client.get(reverse("jobs:job_download", args=[job.pk])).status_code == 404
    page = client.get(reverse("reports:monthly")).content.decode()
    assert f'id="monthly-{job.pk}" data-status="expired"' in page


def test_build_now_by_bureau_staff(client, users, tree, test_figures, django_capture_on_commit_callbacks):  # noqa: F811
    login(client, users["bureau"])
    assert 'id="monthly-build"' in client.get(reverse("reports:monthly")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:monthly_build"), {"period": PERIOD.key, "unit": tree["street_b"].pk})
    assert response.status_code == 302
    jobs = built(users)
    assert jobs["bureau"].status == JobStatus.DONE, jobs["bureau"].error
    assert jobs["street_b"].params["copy_of"] == jobs["bureau"].pk
    assert Notification.objects.filter(recipient=users["street_b"]).count() == 1
    # A month that has not started, a village: refused in Chinese, nothing made.
    future = PERIOD.next().next().key
    response = client.post(reverse("reports:monthly_build"), {"period": future, "unit": tree["street_b"].pk})
    assert response.status_code == 200
    assert Job.objects.filter(kind=JOB_KIND).count() == 2
    response = client.post(reverse("reports:monthly_build"), {"period": PERIOD.key, "unit": tree["village_b1"].pk})
    assert response.status_code == 200 and Job.objects.filter(kind=JOB_KIND).count() == 2


def test_street_users_may_not_build(client, users, tree):
    login(client, users["street_a"])
    assert client.post(reverse("reports:monthly_build"), {"period": PERIOD.key, "unit": tree["street_a"].pk}).status_code == 403


@pytest.mark.celery_worker
def test_the_monthly_task_on_a_real_worker(celery_worker, users, tree):
    result = tasks.monthly_reports_build.apply_async(args=[PERIOD.key], queue=celery_worker["queue"])
    assert result.get(timeout=240) == {"period": PERIOD.key, "jobs": 3, "built": 3, "failed": 0}
    jobs = built(users)
    assert set(jobs) == {"leader", "street_a", "street_b"}
    assert all(job.status == JobStatus.DONE and stored_pdf(job).startswith(b"%PDF-") for job in jobs.values())
    again = tasks.monthly_reports_build.apply_async(args=[PERIOD.key], queue=celery_worker["queue"])
    assert again.get(timeout=120)["built"] == 0
    deadline = time.monotonic() + 5
    while Notification.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["leader", "street_a", "street_b"]
