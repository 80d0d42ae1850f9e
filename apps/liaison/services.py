"""Writes of the bureau-to-street liaison (机关驻街): pairings, monthly task items, copying a month forward.

Who may change what is decided here, not in the forms: bureau staff (``liaison.add_liaisontask``) plan the
items and write inspection notes; street stations (``liaison.change_liaisontask`` only) report progress on
the items of their own street, that is, the status and their feedback.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import concurrency
from apps.core.choices import STATION_ROLES, OrgLevel, Role
from apps.core.models import OrgUnit, User

from .choices import LiaisonStatus
from .models import LiaisonPairing, LiaisonTask

PLAN_PERMISSION = "liaison.add_liaisontask"  # plan items, set owners and dates, write inspection notes
REPORT_PERMISSION = "liaison.change_liaisontask"  # report status and feedback
TASK_FIELDS = ("month", "item", "owner", "due_date", "status", "completed_on", "feedback", "inspection_notes")
REPORT_FIELDS = frozenset({"status", "feedback"})
# Who can be a liaison officer: bureau staff and leadership, or station staff of the paired street.
OFFICER_ROLES = frozenset({Role.BUREAU_STAFF.value, Role.LEADER.value})


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_shift(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _same_day_in(month: date, day: int) -> date:
    return month.replace(day=min(day, calendar.monthrange(month.year, month.month)[1]))


def may_plan(user: User | None) -> bool:
    return user is None or user.has_perm(PLAN_PERMISSION)


def may_report(user: User | None) -> bool:
    return user is None or user.has_perm(REPORT_PERMISSION)


# --- pairings ------------------------------------------------------------------------------------


def officer_allowed(street: OrgUnit, user: User) -> bool:
    """Liaison officers are bureau staff or leadership (at a unit above the street), or station staff of the street."""
    if user.org_unit is None:
        return False
    if user.org_unit.path.startswith(street.path):
        return bool(user.role_names & {r.value for r in STATION_ROLES})
    return street.path.startswith(user.org_unit.path) and bool(user.role_names & OFFICER_ROLES)


def _check_members(street: OrgUnit, members: Iterable[User]) -> None:
    outside = [m for m in members if not officer_allowed(street, m)]
    if outside:
        raise ValidationError({"members": _("%(names)s: liaison officers are bureau staff or staff of %(street)s.") % {
            "names": "、".join(str(m) for m in outside), "street": street.name}})


def pairing_save(*, actor: User | None, pairing: LiaisonPairing | None = None, department: str, street: OrgUnit,
                 members: Iterable[User] = (), is_active: bool = True, version: str | None = None) -> LiaisonPairing:
    """Pair a bureau department with a street/town (or change a pairing). ``version``: a stale edit is refused."""
    department = (department or "").strip()
    members = list(members)
    errors: dict[str, str] = {}
    if not department:
        errors["department"] = _("Name the bureau department.")
    if street.level != OrgLevel.STREET:
        errors["street"] = _("A department is paired with a street or town, not with %(unit)s.") % {"unit": street.name}
    elif actor is not None and not OrgUnit.objects.visible_to(actor).filter(pk=street.pk).exists():
        errors["street"] = _("This unit is outside your area.")
    if errors:
        raise ValidationError(errors)
    _check_members(street, members)
    with transaction.atomic():
        if pairing is not None:
            concurrency.lock_and_check(pairing, version)
        clash = LiaisonPairing.objects.filter(department=department, street=street)
        if pairing is not None:
            clash = clash.exclude(pk=pairing.pk)
        if clash.exists():
            raise ValidationError({"department": _("%(department)s is already paired with %(street)s.") % {
                "department": department, "street": street.name}})
        if pairing is None:
            pairing = LiaisonPairing.objects.create(department=department, street=street, is_active=is_active)
        else:
            pairing.department, pairing.street, pairing.is_active = department, street, is_active
            pairing.save(update_fields=["department", "street", "is_active"])
        pairing.members.set(members)
    return pairing


# --- task items ----------------------------------------------------------------------------------


def owner_allowed(pairing: LiaisonPairing, owner: User) -> bool:
    """An owner is one of the pairing's liaison officers or a user of the paired street."""
    if pairing.members.filter(pk=owner.pk).exists():
        return True
    return owner.org_unit is not None and owner.org_unit.path.startswith(pairing.street.path)


def _validate_task(task: LiaisonTask) -> None:
    errors: dict[str, str] = {}
    if not task.item.strip():
        errors["item"] = _("Describe the task.")
    elif len(task.item) > LiaisonTask._meta.get_field("item").max_length:
        errors["item"] = _("Keep the task under %(n)d characters.") % {"n": LiaisonTask._meta.get_field("item").max_length}
    if task.month is None:
        errors["month"] = _("Choose the month of the task.")
    if task.due_date is None:
        errors["due_date"] = _("Enter the due date.")
    elif task.month is not None and task.due_date < task.month:
        errors["due_date"] = _("The due date is before the task's month (%(month)s).") % {
            "month": task.month.strftime("%Y-%m")}
    if task.status not in LiaisonStatus.values:
        errors["status"] = _("Choose a status.")
    if task.owner_id is not None and not owner_allowed(task.pairing, task.owner):
        errors["owner"] = _("The owner must be a liaison officer of this pairing or work at %(street)s.") % {
            "street": task.pairing.street.name}
    if errors:
        raise ValidationError(errors)


def liaison_task_save(*, actor: User | None, pairing: LiaisonPairing, task: LiaisonTask | None = None,
                      version: str | None = None, **fields: Any) -> LiaisonTask:
    """Add an item to a pairing's monthly list or change one. ``version``: a stale edit is refused.

    Bureau staff set everything; a street station changes only the status and its feedback, and only on
    its own street's items (an item outside the actor's area is refused like a missing one)."""
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"unknown liaison task fields: {sorted(unknown)}")
    if actor is not None and not LiaisonPairing.objects.visible_to(actor).filter(pk=pairing.pk).exists():
        raise ValidationError(_("This pairing is outside your area."))
    planner = may_plan(actor)
    if task is None and not planner:
        raise ValidationError(_("Only bureau staff add liaison tasks."))
    if task is not None and not (planner or may_report(actor)):
        raise ValidationError(_("You may not change liaison tasks."))
    if task is not None and task.pairing_id != pairing.pk:
        raise ValidationError(_("This task belongs to another pairing."))
    if task is None and not pairing.is_active:
        raise ValidationError(_("This pairing has ended; tasks can no longer be added."))
    if isinstance(fields.get("item"), str):
        fields["item"] = fields["item"].strip()
    if fields.get("month") is not None:
        fields["month"] = month_start(fields["month"])
    with transaction.atomic():
        if task is None:
            task = LiaisonTask(pairing=pairing, item="", status=LiaisonStatus.PLANNED)
            changed = list(fields)
        else:
            task = LiaisonTask.objects.select_for_update().select_related("pairing__street").get(pk=task.pk)
            concurrency.check_version(task, version)
            changed = [k for k, v in fields.items() if getattr(task, k) != v]
        if not planner:
            refused = [k for k in changed if k not in REPORT_FIELDS]
            if refused:
                errors = {k: _("Only bureau staff change this.") for k in refused}
                if "inspection_notes" in errors:
                    errors["inspection_notes"] = _("Inspection notes are written by the bureau.")
                raise ValidationError(errors)
        for key in changed:
            setattr(task, key, fields[key])
        # The day a task is done is kept (the summary's "done on time"); reopening it clears the day.
        completed = (task.completed_on or timezone.localdate()) if task.status == LiaisonStatus.DONE else None
        if completed != task.completed_on:
            task.completed_on = completed
            changed.append("completed_on")
        task.pairing = pairing
        _validate_task(task)
        if task.pk is None:
            task.save()
        elif changed:
            task.save(update_fields=[*changed, "updated_at"])
    return task


def liaison_month_copy(*, actor: User | None, pairing: LiaisonPairing, to_month: date) -> int:
    """Carry the open items (not done) of the month before ``to_month`` into ``to_month``.

    Safe to repeat: an item already on the new month's list (same text) is not copied again. The copy
    keeps its owner and status, and its due date moves to the same day of the new month (a due date
    already in or after the new month stays). Feedback and inspection notes start empty. Returns how
    many items were copied."""
    to_month = month_start(to_month)
    if actor is not None and not may_plan(actor):
        raise ValidationError(_("Only bureau staff add liaison tasks."))
    if actor is not None and not LiaisonPairing.objects.visible_to(actor).filter(pk=pairing.pk).exists():
        raise ValidationError(_("This pairing is outside your area."))
    if not pairing.is_active:
        raise ValidationError(_("This pairing has ended; tasks can no longer be added."))
    from_month = month_shift(to_month, -1)
    with transaction.atomic():
        # One copy at a time per pairing: two clicks must not both find the month empty.
        LiaisonPairing.objects.select_for_update().filter(pk=pairing.pk).first()
        present = set(LiaisonTask.objects.filter(pairing=pairing, month=to_month).values_list("item", flat=True))
        copies = []
        for old in LiaisonTask.objects.filter(pairing=pairing, month=from_month).exclude(status=LiaisonStatus.DONE):
            if old.item in present:
                continue
            present.add(old.item)
            due = old.due_date if old.due_date >= to_month else _same_day_in(to_month, old.due_date.day)
            copies.append(LiaisonTask(pairing=pairing, month=to_month, item=old.item, owner_id=old.owner_id,
                                      due_date=due, status=old.status))
        LiaisonTask.objects.bulk_create(copies)
    return len(copies)
