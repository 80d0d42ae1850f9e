"""Report forms: every write. Uploading a form and binding its cells (``reports.manage_forms``); generating a
unit's report of a period (``reports.fill_report``), reviewing it by a second person and locking it
(``reports.review_report``). A locked report's workbook never changes; every generated workbook is kept."""

from __future__ import annotations

import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.figures import Period
from apps.core.models import OrgUnit, User

from . import workbooks
from .models import Report, ReportFile, ReportForm, ReportStatus


def report_form_save(*, actor: User | None, form: ReportForm | None = None, code: str, name: str,
                     description: str = "", period_kind: str, unit_levels: list[str],
                     content: bytes | None = None, file_name: str = "") -> ReportForm:
    """Create a form from an uploaded workbook, or change one (a new file keeps the bindings only when they
    still fit it)."""
    if form is None and not content:
        raise ValidationError({"upload": _("Upload the form's workbook (xlsx).")})
    if content:
        sheets = workbooks.check_template(content, file_name)
    with transaction.atomic():
        if form is None:
            if ReportForm.objects.filter(code=code).exists():
                raise ValidationError({"code": _("A form with this code exists already.")})
            form = ReportForm(code=code)
        else:
            form = ReportForm.objects.select_for_update().get(pk=form.pk)
        form.name, form.description, form.period_kind = name, description, period_kind
        form.unit_levels = list(unit_levels)
        form.updated_by = actor
        if content:
            form.template, form.template_name = content, file_name[:200]
            form.sheet = form.sheet if form.sheet in sheets else sheets[0]
        if form.bindings:
            try:
                workbooks.check_bindings(bytes(form.template), form.sheet, form.unit_levels, form.bindings)
            except workbooks.FormError as exc:
                raise ValidationError(
                    [_("The bindings no longer fit the form:")] + exc.messages) from exc
        form.save()
    return form


def report_form_bind(*, actor: User | None, form: ReportForm, bindings: dict) -> ReportForm:
    """Save the bindings of a form's cells after checking all of them (refused with every bad cell named)."""
    with transaction.atomic():
        form = ReportForm.objects.select_for_update().get(pk=form.pk)
        workbooks.check_bindings(bytes(form.template), form.sheet, form.unit_levels, bindings)
        form.bindings, form.updated_by = bindings, actor
        form.save(update_fields=["bindings", "updated_by", "updated_at"])
    return form


def check_period(form: ReportForm, text: str | Period) -> Period:
    """The period a report is asked for: of the form's kind, not in the future."""
    period = text if isinstance(text, Period) else Period.parse(text)
    if period.kind != form.period_kind:
        raise ValidationError({"period": _("This form is filled per %(kind)s: give a period like %(example)s.")
                               % {"kind": form.get_period_kind_display(),
                                  "example": Period.current(form.period_kind).key}})
    if period.is_future():
        raise ValidationError({"period": _("The period %(period)s has not begun: its report cannot be generated yet.")
                               % {"period": period.key}})
    return period


def check_unit(form: ReportForm, unit: OrgUnit) -> None:
    """The form is filled by units of this level and has bindings."""
    if unit.level not in form.unit_levels:
        raise ValidationError({"unit": _("The form %(form)s is not filled by a %(level)s.")
                               % {"form": form.name, "level": unit.get_level_display()}})
    if not form.bindings:
        raise ValidationError(_("The form has no cell bound to a figure."))


def report_generate(*, actor: User | None, form: ReportForm, unit: OrgUnit, period: str | Period) -> ReportFile:
    """Fill the form for ``unit`` and ``period`` and keep the workbook as the report's next version. The caller
    has checked the user's scope (``figures.scoped_unit``); ``actor`` None is the system (the command).
    Refused: an inactive form, a unit of a level the form is not for, a future period, a locked report."""
    if not form.is_active:
        raise ValidationError(_("The form %(form)s is no longer in use.") % {"form": form.name})
    period = check_period(form, period)
    check_unit(form, unit)
    plan = workbooks.check_bindings(bytes(form.template), form.sheet, form.unit_levels, form.bindings)
    with transaction.atomic():
        report = (Report.objects.select_for_update()
                  .filter(form=form, org_unit=unit, period=period.key).first())
        if report is not None and report.is_locked:
            raise ValidationError(_("The report of %(unit)s for %(period)s is locked: it cannot be generated again.")
                                  % {"unit": unit.name, "period": period.key})
        filled = workbooks.fill(form, unit, period, plan=plan)
        now = timezone.now()
        if report is None:
            try:
                with transaction.atomic():
                    report = Report.objects.create(form=form, org_unit=unit, period=period.key, generated_by=actor,
                                                   generated_at=now)
            except IntegrityError:  # generated at the same moment by someone else: theirs is the one to review
                raise ValidationError(_("The report is being generated by someone else; open it again.")) from None
        version = (report.files.aggregate(v=Max("version"))["v"] or 0) + 1
        kept = ReportFile(report=report, version=version, sha256=hashlib.sha256(filled.content).hexdigest(),
                          size=len(filled.content), values=filled.values, created_by=actor, created_at=now)
        kept.file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(filled.content), save=False)
        kept.save()
        report.status, report.generated_by, report.generated_at = ReportStatus.FILLED, actor, now
        report.reviewed_by = report.reviewed_at = None
        report.review_note = ""
        report.save(update_fields=["status", "generated_by", "generated_at", "reviewed_by", "reviewed_at",
                                   "review_note"])
    return kept


def _second_person(actor: User, report: Report) -> None:
    if report.generated_by_id is not None and report.generated_by_id == actor.pk:
        raise ValidationError(_("You generated this report: a second person must review and lock it."))


def report_review(*, actor: User, report: Report, approve: bool, note: str = "") -> Report:
    """The second person's review: approve (then it may be locked) or return it for correction (with a note)."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status != ReportStatus.FILLED:
            raise ValidationError(_("Only a filled report waiting for review can be reviewed (this one is “%(status)s”).")
                                  % {"status": report.get_status_display()})
        _second_person(actor, report)
        if not approve and not note.strip():
            raise ValidationError({"note": _("Say what must be corrected.")})
        report.status = ReportStatus.REVIEWED if approve else ReportStatus.RETURNED
        report.reviewed_by, report.reviewed_at, report.review_note = actor, timezone.now(), note.strip()
        report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    return report


def report_lock(*, actor: User, report: Report) -> Report:
    """Lock a reviewed report: its workbook is final and the period cannot be generated again."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status != ReportStatus.REVIEWED:
            raise ValidationError(_("Only a reviewed report can be locked (this one is “%(status)s”).")
                                  % {"status": report.get_status_display()})
        _second_person(actor, report)
        report.status, report.locked_by, report.locked_at = ReportStatus.LOCKED, actor, timezone.now()
        report.save(update_fields=["status", "locked_by", "locked_at"])
    return report
