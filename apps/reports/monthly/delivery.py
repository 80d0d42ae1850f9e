"""Building and handing out the monthly work report, through core's jobs and download centre.

Who owns what:
- A report of one unit (the district or a street) for one month is built by one job of kind ``reports.monthly``
  (:data:`JOB_KIND`), owned by the person who asked for it ("build now": an administrator or bureau staff) or,
  for the build on the 1st of the month, by its first recipient. The job records what its file is made under:
  the permission ``reports.view_monthly_report`` and the unit's path (``files.job_grants``).
- Its recipients — leadership (局领导) for the district, the street station's users for a street — each get their
  own copy: a finished job of the same kind in their own download centre, with the same grants. So every rule of
  the download centre holds unchanged: a user lists and downloads only their own jobs (another's is a 404), a
  download re-checks the permission and the area (a street user moved to another street loses the old street's
  report), and each copy expires ``GENERATED_FILES_TTL_DAYS`` after it was made (``core.generated_files_purge``).
- Each recipient is notified once per month and unit (the notification's ``dedupe_key``), however often the
  report is built: a retried job, a second beat run, a "build now" after a correction.

The PDF is rendered once per build and copied to the recipients. Building reads the figure store only.
"""

from __future__ import annotations

import io
import logging
import time
import zlib

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import files
from apps.core.choices import JobStatus, OrgLevel, Role
from apps.core.figures import MONTH, Period
from apps.core.jobs import JobError, Progress
from apps.core.models import Job, OrgUnit, User
from apps.core.services import notify

from .document import monthly_filename, monthly_pdf

logger = logging.getLogger(__name__)

JOB_KIND = "reports.monthly"
PERMISSION = "reports.view_monthly_report"
RECIPIENT_ROLE = {OrgLevel.DISTRICT.value: Role.LEADER, OrgLevel.STREET.value: Role.STREET_STATION}


def report_units() -> list[OrgUnit]:
    """The units a monthly report is made for: the district and each active street, in tree order."""
    return list(OrgUnit.objects.filter(is_active=True, level__in=list(RECIPIENT_ROLE)).order_by("path"))


def last_month(today=None) -> Period:
    return Period.containing(today or timezone.localdate(), MONTH).previous()


def may_read(user: User, unit: OrgUnit) -> bool:
    """The user holds the permission and their area covers the unit (what a download re-checks)."""
    scope = files.scope_path(user)
    return scope is not None and unit.path.startswith(scope) and user.has_perm(PERMISSION)


def monthly_recipients(unit: OrgUnit) -> list[User]:
    """Who receives the report: leadership for the district, the street station's own users for a street."""
    role = RECIPIENT_ROLE.get(unit.level)
    if role is None:
        return []
    users = User.objects.filter(is_active=True, groups__name=role.value).select_related("org_unit")
    if unit.level == OrgLevel.STREET.value:
        users = users.filter(org_unit=unit)
    return [user for user in users.distinct().order_by("pk") if may_read(user, unit)]


def monthly_title(unit: OrgUnit, period: Period) -> str:
    return _("Monthly work report %(period)s · %(unit)s") % {"period": period.key, "unit": unit.name}


def _check(unit: OrgUnit, period: Period) -> None:
    if unit.level not in RECIPIENT_ROLE:
        raise ValidationError(_("A monthly report is made for the district or a street/town only."), code="unit")
    if period.kind != MONTH:
        raise ValidationError(_("A monthly report covers one month."), code="period")
    period.check_not_future()


def _batch_lock(period: Period) -> None:
    """Serialise the creation of one month's scheduled jobs (two beat runs at once make them once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"monthly:{period.key}".encode()) - 2**31])


def monthly_report_request(*, unit: OrgUnit, period: Period, actor: User | None = None,
                           scheduled: bool = False) -> Job | None:
    """The job that builds ``unit``'s report for ``period``; the caller starts or runs it.

    ``actor`` asks for a new build now (they own the job; they must be able to read the unit's report). Without
    an actor it is the build on the 1st: owned by the first recipient, and made once per month and unit — asked
    again, the job made before is returned. None when nobody would receive the report."""
    _check(unit, period)
    if actor is not None and not may_read(actor, unit):
        raise ValidationError(_("You may not read this unit's monthly report."), code="scope")
    with transaction.atomic():
        if scheduled:
            _batch_lock(period)
            made = (Job.objects.filter(kind=JOB_KIND, params__period=period.key, params__unit=unit.pk,
                                       params__scheduled=True).filter(~Q(params__has_key="copy_of"))
                    .order_by("pk").first())
            if made is not None:
                return made
        owner = actor or next(iter(monthly_recipients(unit)), None)
        if owner is None:
            return None
        reason = (_("Built on the 1st of the month") if scheduled
                  else _("Built on request by %(user)s") % {"user": actor.real_name or actor.username})
        return Job.objects.create(
            kind=JOB_KIND, user=owner, title=monthly_title(unit, period), reason=reason[:300],
            params={"period": period.key, "unit": unit.pk, "scheduled": scheduled, "language": "zh-hans"},
            **files.job_grants(user=owner, permissions=[PERMISSION], scope=unit.path))


def monthly_report_run(job: Job, progress: Progress) -> None:
    """Job kind ``reports.monthly``: render the PDF into the job, then (a build, not a copy) hand a copy to each
    recipient and notify them."""
    unit = OrgUnit.objects.filter(pk=job.params.get("unit")).first()
    try:
        period = Period.parse(job.params.get("period", ""))
    except ValidationError as exc:
        raise JobError(_("This job names no month.")) from exc
    if unit is None:
        raise JobError(_("The unit of this report no longer exists."))
    if not files.job_grants_hold(job.user, job):
        raise JobError(_("You may no longer read this unit's monthly report."))
    recipients = [] if "copy_of" in job.params else [u for u in monthly_recipients(unit) if u.pk != job.user_id]
    progress.update(0, total=2 + len(recipients))
    started = time.monotonic()
    pdf, report = monthly_pdf(unit=unit, period=period)
    seconds = round(time.monotonic() - started, 1)
    progress.update(1)
    result = {"filename": monthly_filename(unit=unit, period=period), "bytes": len(pdf), "seconds": seconds,
              "figures": len({key for (key, _period, _unit) in report.readings}),
              "period": period.key, "unit": unit.pk}
    job.result = result
    files.job_output_store(job, io.BytesIO(pdf), suffix=".pdf")
    job.save(update_fields=["result", "output_file", "output_encrypted"])
    progress.update(2)
    if "copy_of" in job.params:
        return
    for done, user in enumerate(recipients, start=3):
        _deliver_copy(job, user, pdf)
        progress.update(done)
    _notify(unit, period, [job.user, *recipients])
    logger.info("monthly report %s for unit %s built in %.1f s (%d bytes, %d copies)", period.key, unit.pk,
                seconds, len(pdf), len(recipients))


def _deliver_copy(job: Job, user: User, pdf: bytes) -> Job:
    """The recipient's own finished copy of ``job``'s report (made once per build; a rebuild replaces its file)."""
    copy = Job.objects.filter(kind=JOB_KIND, user=user, params__copy_of=job.pk).first()
    if copy is None:
        copy = Job(kind=JOB_KIND, user=user, title=job.title, reason=job.reason,
                   params={**job.params, "copy_of": job.pk}, grant_permissions=job.grant_permissions,
                   grant_scope=job.grant_scope)
    files.job_output_store(copy, io.BytesIO(pdf), suffix=".pdf")
    copy.status, copy.result = JobStatus.DONE, job.result
    copy.progress = copy.total = 1
    copy.finished_at = timezone.now()
    copy.save()
    return copy


def _notify(unit: OrgUnit, period: Period, users: list[User]) -> int:
    recipients = [u for u in dict.fromkeys(users) if u.has_perm(PERMISSION)]
    link = f"{reverse('reports:monthly')}?period={period.key}"
    return notify(
        recipients=recipients, title=monthly_title(unit, period), link=link,
        body=_("The monthly work report of %(unit)s for %(period)s is ready in the download centre. It is kept "
               "for %(days)d days.") % {"unit": unit.name, "period": period.label, "days": files.generated_files_ttl().days},
        dedupe_key=f"{JOB_KIND}:{period.key}:{unit.pk}")


def monthly_reports_build(*, period: Period | None = None) -> dict:
    """Task ``reports.monthly_reports_build`` (the 1st of each month): last month's report for the district and
    each street, built one after the other in this task. Safe to run twice: a unit's job made by an earlier run
    is not made again, a finished one is not built again (``jobs.job_run`` claims only a waiting or failed job),
    and recipients are notified once."""
    from apps.core.jobs import job_run

    period = period or last_month()
    made = [job for unit in report_units() if (job := monthly_report_request(unit=unit, period=period, scheduled=True))]
    built = failed = 0
    for job in made:
        ran = job_run(job.pk)
        if ran is None:
            continue
        built += ran.status == JobStatus.DONE
        failed += ran.status == JobStatus.FAILED
    return {"period": period.key, "jobs": len(made), "built": built, "failed": failed}
