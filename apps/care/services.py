"""Every write of the care app: visits, life events, rules, the nightly reminder run, escalation."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core import concurrency
from apps.core.choices import Role
from apps.core.files import random_upload_name, upload_kind
from apps.core.models import OrgUnit, User
from apps.core.services import notify
from apps.registry.choices import VeteranStatus
from apps.registry.models import FamilyMember, Veteran

from . import engine
from .choices import Calendar, EscalationLevel, RuleKind, TaskStatus, VisitMode
from .models import CareRun, DueVisit, LifeEvent, Occasion, Visit, VisitPhoto, VisitRule

logger = logging.getLogger("veterans_portal.care")

LOCK_KEY = 7_202_611  # pg advisory lock: one reminder run at a time
PHOTO_TYPES = {".jpg", ".jpeg", ".png"}
PHOTO_MAX_BYTES = 8 * 1024 * 1024
STREET_PATH_LENGTH = 8  # treebeard steplen 4: district (4) → street/town (8) → community/village (12)


# --- visits and life events ----------------------------------------------------------------------


def _check_date(day: date, veteran: Veteran, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    if day < veteran.birth_date:
        raise ValidationError({field: _("The date is before the person's birth.")})


def visit_log(*, actor: User | None, veteran: Veteran, occasion: Occasion, date: date, visitors: str,
              mode: str = VisitMode.HOME, family_member: FamilyMember | None = None, task: DueVisit | None = None,
              life_event: LifeEvent | None = None, photos: Sequence = (), **fields: Any) -> Visit:
    """走访慰问: record a visit and close the due visits it satisfies (the one clicked, and any other open task
    of the same person that this visit fulfils: same occasion, or any visit for a contact rule)."""
    _check_date(date, veteran, "date")
    if veteran.status != VeteranStatus.ACTIVE:
        raise ValidationError(_("Visits can be logged only for records on the register."))
    if family_member is not None and family_member.veteran_id != veteran.pk:
        raise ValidationError({"family_member": _("This family member belongs to another record.")})
    if not (visitors or "").strip():
        raise ValidationError({"visitors": _("Name who made the visit.")})
    money = fields.get("money")
    if money is not None and Decimal(money) < 0:
        raise ValidationError({"money": _("The amount cannot be negative.")})
    if task is not None and (task.veteran_id != veteran.pk or task.status != TaskStatus.OPEN):
        raise ValidationError(_("This task is no longer open."))
    for photo in photos:
        _check_photo(photo)
    with transaction.atomic():
        visit = Visit(veteran=veteran, org_unit_id=responsible_unit(veteran), occasion=occasion, date=date,
                      visitors=visitors.strip(), mode=mode, family_member=family_member, life_event=life_event,
                      created_by=actor if actor is not None and actor.is_authenticated else None,
                      **{k: v for k, v in fields.items() if k in VISIT_FIELDS})
        visit.full_clean(exclude=["created_by"])
        visit.save()
        for photo in photos:
            # A random name, like the signed photos of the honours registers: the uploaded one may name the family.
            photo.name = random_upload_name(photo.name, upload_kind(photo))
            VisitPhoto.objects.create(visit=visit, file=photo)
        tasks_close_for_visit(visit=visit, task=task)
    return visit


VISIT_FIELDS = {"content", "needs", "help_given", "money", "goods", "follow_up"}


def responsible_unit(veteran: Veteran) -> int:
    """The person's unit now, read under a key-share lock (call it inside the transaction that writes the
    record): a transfer, which locks the person FOR UPDATE and moves their records, then waits for this
    transaction, or this read waits for the transfer and sees its new unit. Either way the record written
    here ends with the person's unit, never left behind at the old one. (Not ``select_for_update``: its
    weakest lock would also wait for any edit or import of the person.)"""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT org_unit_id FROM {Veteran._meta.db_table} WHERE id = %s FOR KEY SHARE",  # noqa: S608
                       [veteran.pk])
        row = cursor.fetchone()
    return row[0] if row else veteran.org_unit_id


def _check_photo(upload) -> None:
    name = getattr(upload, "name", "") or ""
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if suffix not in PHOTO_TYPES:
        raise ValidationError({"photos": _("Photos must be JPG or PNG files.")})
    if getattr(upload, "size", 0) > PHOTO_MAX_BYTES:
        raise ValidationError({"photos": _("A photo may be at most 8 MB.")})
    if upload_kind(upload) not in ("jpeg", "png"):
        raise ValidationError({"photos": _("This file is not a readable JPG or PNG image.")})


def tasks_close_for_visit(*, visit: Visit, task: DueVisit | None = None) -> int:
    """Close the tasks a visit answers: the task it was logged from, whatever its occasion and date (after
    its due date it counts as late), and the other open tasks of the person whose rule the visit answers
    (``engine.visit_answers``: the rule's occasion, at home when the rule asks for it) in the period the
    visit falls in (opens on or before the visit's date, due on or after it). A festival visit does not
    close last year's overdue contact tasks, nor this year's contact tasks. Each closed task records the
    visit's date as its completion (``completed_on``). Returns how many were closed."""
    now = timezone.now()
    answered = (DueVisit.objects.open().filter(veteran_id=visit.veteran_id, rule__occasion_id=visit.occasion_id,
                                               opens_on__lte=visit.date, due_date__gte=visit.date)
                .select_related("rule"))
    closing = {t.pk for t in answered if engine.visit_answers(t.rule, visit)}
    if task is not None:
        closing.add(task.pk)
    return DueVisit.objects.filter(pk__in=closing, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, visit=visit, closed_at=now, closed_by=visit.created_by, completed_on=visit.date)


def life_event_record(*, actor: User | None, veteran: Veteran, occasion: Occasion, date: date,
                      description: str = "") -> LifeEvent:
    """六必访: record what happened; the must-visit rules give the station a task at once."""
    if not occasion.is_life_event:
        raise ValidationError({"occasion": _("Choose one of the life events.")})
    _check_date(date, veteran, "date")
    with transaction.atomic():
        event = LifeEvent.objects.create(veteran=veteran, org_unit_id=responsible_unit(veteran), occasion=occasion,
                                         date=date, description=description,
                                         created_by=actor if actor is not None and actor.is_authenticated else None)
        people_recompute_soon([veteran.pk])
    return event


def task_cancel(*, actor: User, task: DueVisit, reason: str = "") -> DueVisit:
    """Mark a due visit as no longer needed (moved away, declined…)."""
    if task.status != TaskStatus.OPEN:
        raise ValidationError(_("This task is no longer open."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why no visit is needed.")})
    task.status, task.closed_at, task.closed_by, task.cancel_reason = (
        TaskStatus.CANCELLED, timezone.now(), actor, reason.strip()[:200])
    task.save(update_fields=["status", "closed_at", "closed_by", "cancel_reason"])
    return task


# --- occasions and rules ---------------------------------------------------------------------------


def occasion_save(*, actor: User | None, occasion: Occasion, version: str | None = None) -> Occasion:
    """Add or change a visit occasion. One still used by an active rule cannot be switched off, nor stop
    being a life event while a rule waits for it. ``version``: a stale edit is refused (apps.core.concurrency)."""
    if version is not None:
        with transaction.atomic():
            concurrency.lock_and_check(occasion, version)
            return occasion_save(actor=actor, occasion=occasion)
    if occasion.pk:
        rules = VisitRule.objects.filter(is_active=True)
        if not occasion.is_active and rules.filter(occasion=occasion).exists():
            raise ValidationError({"is_active": _("Active visit rules use this occasion; switch them off first.")})
        if not occasion.is_life_event and rules.filter(event_occasions=occasion).exists():
            raise ValidationError({"is_life_event": _("Active visit rules are triggered by this event.")})
    occasion.full_clean()
    occasion.save()
    return occasion


# --- rules ----------------------------------------------------------------------------------------

RULE_M2M = ("event_occasions", "categories", "care_categories", "discharge_modes", "tags", "org_units")


def rule_validate(rule: VisitRule, m2m: dict[str, Iterable]) -> None:
    """The checks a rule must pass, with the field each message belongs to."""
    errors: dict[str, str] = {}
    selected = any(list(m2m.get(name) or []) for name in ("categories", "care_categories", "discharge_modes", "tags",
                                                           "org_units"))
    if not (rule.everyone or rule.key_recipients_only or selected or rule.min_age is not None
            or rule.max_age is not None):
        errors["everyone"] = _("Say whom the rule is for: everyone, or at least one category, age, mode, tag or unit.")
    for field in ("interval_months", "due_within_days", "lead_days", "min_age", "max_age", "escalate_street_days",
                  "escalate_bureau_days", "month", "day"):
        value = getattr(rule, field)
        if value is not None and value < 0:
            errors[field] = _("This number cannot be negative.")
    if rule.kind == RuleKind.INTERVAL:
        if not rule.interval_months or 12 % rule.interval_months:
            errors["interval_months"] = _("Choose 1, 2, 3, 4, 6 or 12 months.")
    elif rule.kind in (RuleKind.AFTER_REPORT, RuleKind.AFTER_EVENT):
        if "due_within_days" not in errors and (rule.due_within_days is None or rule.due_within_days < 1):
            errors["due_within_days"] = _("Give the number of days (at least 1).")
        if rule.kind == RuleKind.AFTER_EVENT and not list(m2m.get("event_occasions") or []):
            errors["event_occasions"] = _("Choose the life events that trigger this visit.")
    elif rule.kind == RuleKind.FESTIVAL:
        if not rule.calendar:
            errors["calendar"] = _("Choose the calendar of the festival.")
        if not rule.month or not 1 <= rule.month <= 12:
            errors["month"] = _("Give the month (1–12).")
        limit = 30 if rule.calendar == Calendar.LUNAR else 31
        if not rule.day or not 1 <= rule.day <= limit:
            errors["day"] = _("Give the day (1–%(limit)d).") % {"limit": limit}
        if "month" not in errors and "day" not in errors and rule.calendar:
            try:
                engine.festival_date(rule, timezone.localdate().year)
            except Exception:  # noqa: BLE001 — lunar_python raises plain Exception for a day a month lacks
                errors["day"] = _("This day does not exist in that month.")
    elif rule.kind == RuleKind.BIRTHDAY and rule.min_age is None:
        errors["min_age"] = _("Give the age from which birthday visits are made.")
    if rule.min_age is not None and rule.max_age is not None and rule.max_age < rule.min_age:
        errors["max_age"] = _("The highest age is below the lowest.")
    if rule.escalate_bureau_days < rule.escalate_street_days:
        errors["escalate_bureau_days"] = _("The bureau is told after the street, not before.")
    if errors:
        raise ValidationError(errors)


def rule_save(*, actor: User | None, rule: VisitRule, m2m: dict[str, Iterable] | None = None,
              version: str | None = None) -> VisitRule:
    """Create or change a rule; its due visits are recomputed in the background once it is saved.

    ``version`` (the form's): a change someone else saved since the form was shown refuses the write.
    """
    m2m = m2m or {}
    current = {name: list(getattr(rule, name).all()) for name in RULE_M2M} if rule.pk else {}
    rule_validate(rule, {**current, **m2m})
    with transaction.atomic():
        concurrency.lock_and_check(rule, version)
        rule.full_clean(exclude=list(RULE_M2M))
        rule.save()
        for name, values in m2m.items():
            getattr(rule, name).set(values)
        transaction.on_commit(lambda: rule_recompute_soon(rule.pk))
    return rule


def rule_recompute(*, rule: VisitRule, on: date | None = None) -> tuple[int, int]:
    """Bring one rule's open tasks in line with it: create what is due, cancel what no longer applies."""
    on = on or timezone.localdate()
    [rule] = engine.load_rules(VisitRule.objects.filter(pk=rule.pk))
    cancelled = engine.cancel_stale(rule, on)
    created = 0
    for low, high in id_chunks():
        with transaction.atomic():
            created += engine.generate(rule, on, id_range=(low, high))
    return created, cancelled


def rule_recompute_soon(rule_id: int) -> None:
    """Queue the rule's recomputation. With the broker down the page still works: the nightly run will
    bring the rule's tasks in line (and /healthz shows Redis down)."""
    from apps.core import broker

    from .tasks import recompute_rule

    try:
        broker.send(recompute_rule, [rule_id])  # gives up at once when Redis is down
    except broker.BrokerUnavailable:
        logger.warning("care: could not queue the recomputation of rule %s; the nightly run will do it", rule_id,
                       exc_info=True)


# --- one person, as soon as their record changes ----------------------------------------------------


def people_recompute(*, ids: Sequence[int], on: date | None = None) -> tuple[int, int]:
    """Recompute the due visits of these records: new ones, cancelled ones, tasks following a transfer."""
    on = on or timezone.localdate()
    rules = engine.all_rules()
    with transaction.atomic():
        engine.sync_units(ids=ids)
        cancelled = engine.cancel_stale(None, on, ids=ids, rules=rules)
        created = engine.generate_all(rules, on, ids=ids)
    return created, cancelled


def person_records_follow(*, ids: Sequence[int]) -> int:
    """Everything care keeps about these people follows them to their responsible unit: visits (and with
    them their photos), life events and due visits of every status (open ones start again at the station's
    level). A transfer calls it inside its own transaction (registry hook ``on_move``); one indexed UPDATE
    per table, so that the unit columns the worklist and the lists read stay as they are. Returns how
    many rows moved."""
    ids = list(ids)
    unit = Subquery(Veteran.objects.filter(pk=OuterRef("veteran_id")).values("org_unit_id")[:1])
    moved = engine.sync_units(ids=ids)  # open tasks, escalation reset
    moved += (DueVisit.objects.filter(veteran_id__in=ids).exclude(status=TaskStatus.OPEN)
              .exclude(org_unit_id=unit).update(org_unit_id=unit))
    for model in (Visit, LifeEvent):
        moved += model.objects.filter(veteran_id__in=ids).exclude(org_unit_id=unit).update(org_unit_id=unit)
    return moved


RECOMPUTE_KIND = "care.recompute_people"


def people_recompute_soon(ids: Sequence[int]) -> None:
    """Record, in the current transaction, that these records' tasks must be recomputed: done by a worker
    once it commits, or here and now with the broker down (quick for a few records), and never lost to a
    kill after the commit (core's outbox)."""
    from apps.core.outbox import outbox_add

    outbox_add(kind=RECOMPUTE_KIND, payloads=[{"ids": sorted(set(ids))}])


def _recompute_from_outbox(payload: dict) -> None:
    people_recompute(ids=list(payload.get("ids") or []))


def active_rules() -> list[VisitRule]:
    return engine.load_rules(VisitRule.objects.filter(is_active=True))


# --- the nightly run ---------------------------------------------------------------------------


def id_chunks(size: int | None = None) -> list[tuple[int, int]]:
    size = size or settings.CARE_REMINDER_CHUNK
    bounds = Veteran.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    return [(low, low + size) for low in range(bounds["low"], bounds["high"] + 1, size)]


class RunInProgress(Exception):
    """Another reminder run holds the lock."""


def reminders_run(*, on: date | None = None, progress=None) -> CareRun:
    """The nightly job: every rule for every record, chunk by chunk (each chunk its own transaction, so a
    killed run keeps what it finished and the next run completes the rest: the unique period key makes
    repeating a chunk create nothing); then cancel what no longer applies, escalate, remind.

    Only one run at a time: a PostgreSQL advisory lock held by this connection (released by the server
    if the worker dies)."""
    on = on or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise RunInProgress
    try:
        run = CareRun.objects.create(on_date=on)
        phases: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            phases[name] = round(now - clock, 1)
            clock = now

        try:
            rules = active_rules()
            chunks = id_chunks()
            for number, (low, high) in enumerate(chunks, 1):
                with transaction.atomic():
                    born = engine.generate_chunk(rules, on, id_range=(low, high))
                    run.created += born.pop(None, 0)
                    for unit_id, count in born.items():
                        key = str(unit_id)
                        run.pending_reminders[key] = run.pending_reminders.get(key, 0) + count
                    run.save(update_fields=["created", "pending_reminders"])
                if progress is not None:
                    progress(number, len(chunks))
            lap("generate")
            with transaction.atomic():
                engine.sync_units()
                lap("sync_units")
                run.cancelled = engine.cancel_stale(None, on)
                run.save(update_fields=["cancelled"])
            lap("cancel")
            run.escalated = escalate(on=on)
            lap("escalate")
            run.notified_units = remind_due(on=on)
            lap("remind")
            logger.info("care run %s: %s seconds per phase", on, phases)
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"
            run.finished_at = timezone.now()
            run.save(update_fields=["error", "finished_at"])
            raise
        run.finished_at = timezone.now()
        run.save(update_fields=["escalated", "notified_units", "finished_at"])
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


# --- reminders and escalation ---------------------------------------------------------------------


def station_users(unit_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active station staff of each unit (who get its reminders)."""
    users: dict[int, list[User]] = {}
    for user in (User.objects.filter(org_unit__in=list(unit_ids), is_active=True,
                                     groups__name__in=[Role.STREET_STATION, Role.VILLAGE_STATION]).distinct()):
        users.setdefault(user.org_unit_id, []).append(user)
    return users


def bureau_users() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.BUREAU_STAFF).distinct())


def remind_due(*, on: date) -> int:
    """Tell each station, once a day, what its worklist holds (in-app, e-mail, SMS log), in three figures
    that do not overlap: visits due today and visits overdue (the unit's open tasks now), and visits new
    since the last notice that are due later. New: the tasks the nightly runs created already open (counted
    per unit on the runs, ``pending_reminders``) and the tasks not reminded yet that are open now (created
    by a recompute, or opening later); they are marked told in the same transaction as the in-app
    notifications, whose dedupe key (unit and day) keeps a repeated run from telling anyone twice. A unit
    with nothing due today, nothing overdue and nothing new is not told. Returns how many units' staff were
    told (a repeated run the same day tells nobody again: 0)."""
    table = DueVisit._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH told AS (UPDATE {table} SET notified_on = %s WHERE status = %s "  # noqa: S608
                f"AND notified_on IS NULL AND opens_on <= %s RETURNING org_unit_id, due_date) "
                f"SELECT org_unit_id, count(*) FROM told WHERE due_date > %s GROUP BY org_unit_id",
                [on, TaskStatus.OPEN, on, on])
            new = Counter(dict(cursor.fetchall()))
            cursor.execute(
                f"SELECT org_unit_id, count(*) FILTER (WHERE due_date = %s), count(*) FILTER (WHERE due_date < %s) "  # noqa: S608
                f"FROM {table} WHERE status = %s AND due_date <= %s GROUP BY org_unit_id",
                [on, on, TaskStatus.OPEN, on])
            due = {unit_id: (today, overdue) for unit_id, today, overdue in cursor.fetchall()}
        for run in CareRun.objects.select_for_update().exclude(pending_reminders={}):
            new.update({int(unit_id): count for unit_id, count in run.pending_reminders.items()})
            run.pending_reminders = {}
            run.save(update_fields=["pending_reminders"])
        units = sorted({unit_id for unit_id, count in new.items() if count} | set(due))
        # Units told today already but with more tasks now (a second run) are not told again; that is the point.
        worklist = reverse("care:worklist")
        staff = station_users(units)
        told = 0
        for unit_id in units:
            today, overdue = due.get(unit_id, (0, 0))
            figures = {"today": today, "overdue": overdue, "new": new.get(unit_id, 0)}
            view = "today" if today else "overdue" if overdue else ""
            told += bool(notify(
                recipients=staff.get(unit_id, []),
                title=_("Visits: %(today)d due today, %(overdue)d overdue, %(new)d new") % figures,
                body=_("Due today: %(today)d. Overdue (past their due date): %(overdue)d. New since the last "
                       "notice, due later: %(new)d. Open your worklist.") % figures,
                link=f"{worklist}?view={view}" if view else worklist,
                level="warning" if overdue else "info", dedupe_key=f"care:due:{unit_id}:{on.isoformat()}"))
    return told


def escalate(*, on: date) -> int:
    """Overdue tasks go up: after the rule's street days to the street station, after its bureau days to the
    bureau; each is told once a day what reached it. Returns how many tasks moved up."""
    moved = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {DueVisit._meta.db_table} d SET level = %s, escalated_on = %s "  # noqa: S608
                f"FROM {VisitRule._meta.db_table} r WHERE r.id = d.rule_id AND d.status = %s AND d.level < %s "
                f"AND d.due_date + r.escalate_bureau_days < %s",
                [EscalationLevel.BUREAU, on, TaskStatus.OPEN, EscalationLevel.BUREAU, on])
            to_bureau = cursor.rowcount
            cursor.execute(
                f"WITH up AS (UPDATE {DueVisit._meta.db_table} d SET level = %s, escalated_on = %s "  # noqa: S608
                f"FROM {VisitRule._meta.db_table} r WHERE r.id = d.rule_id AND d.status = %s AND d.level < %s "
                f"AND d.due_date + r.escalate_street_days < %s RETURNING d.org_unit_id) "
                f"SELECT org_unit_id, count(*) FROM up GROUP BY org_unit_id",
                [EscalationLevel.STREET, on, TaskStatus.OPEN, EscalationLevel.STREET, on])
            to_street = Counter(dict(cursor.fetchall()))
        moved = to_bureau + sum(to_street.values())
        link = reverse("care:worklist") + "?view=escalated"
        if to_street:
            paths = dict(OrgUnit.objects.filter(pk__in=list(to_street)).values_list("pk", "path"))
            per_street: Counter = Counter()
            for unit_id, count in to_street.items():
                per_street[paths[unit_id][:STREET_PATH_LENGTH]] += count
            streets = dict(OrgUnit.objects.filter(path__in=list(per_street)).values_list("path", "pk"))
            staff = station_users(streets.values())
            for path, count in per_street.items():
                street_id = streets.get(path)
                if street_id is None:
                    continue
                notify(recipients=[u for u in staff.get(street_id, []) if u.has_role(Role.STREET_STATION)],
                       title=ngettext("%(count)d overdue visit escalated to your street",
                                      "%(count)d overdue visits escalated to your street", count) % {"count": count},
                       link=link, level="warning", dedupe_key=f"care:esc1:{street_id}:{on.isoformat()}")
        if to_bureau:
            notify(recipients=bureau_users(),
                   title=ngettext("%(count)d visit is long overdue", "%(count)d visits are long overdue",
                                  to_bureau) % {"count": to_bureau},
                   link=link, level="danger", dedupe_key=f"care:esc2:{on.isoformat()}")
    return moved


def overdue_days(task: DueVisit, on: date | None = None) -> int:
    return max(0, ((on or timezone.localdate()) - task.due_date).days)


