"""Every read of the care app that has rules: worklists, a person's visits, campaign progress, calendars."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.core.models import OrgUnit, User
from apps.registry.models import Veteran

from .choices import EscalationLevel, TaskStatus
from .models import Campaign, DueVisit, LifeEvent, Visit

WORKLIST_VIEWS = ("today", "week", "overdue", "open", "escalated", "done")


def worklist(*, user: User, view: str = "open", on: date | None = None, occasion: int | None = None,
             unit: OrgUnit | None = None) -> QuerySet[DueVisit]:
    """The due visits a user works on: scoped, one view (due today, this week, overdue, all open, escalated
    to the user's level, done), optionally one occasion or one unit's subtree; earliest due first."""
    on = on or timezone.localdate()
    tasks = DueVisit.objects.visible_to(user)
    tasks = tasks.filter(status=TaskStatus.DONE) if view == "done" else tasks.open().filter(opens_on__lte=on)
    if view == "today":
        tasks = tasks.filter(due_date=on)
    elif view == "week":
        tasks = tasks.filter(due_date__gte=on, due_date__lte=on + timedelta(days=6 - on.weekday()))
    elif view == "overdue":
        tasks = tasks.filter(due_date__lt=on)
    elif view == "escalated":
        tasks = tasks.filter(level__gte=escalation_level_of(user))
    if occasion:
        tasks = tasks.filter(occasion_id=occasion)
    if unit is not None:
        tasks = tasks.filter(org_unit__path__startswith=unit.path)
    return tasks


def escalation_level_of(user: User) -> int:
    """Which escalated tasks are 'for' this user: the bureau sees those escalated to it, a street station
    those escalated to the street (or further), a village station none beyond its own."""
    if user.sees_whole_district:
        return EscalationLevel.BUREAU
    if user.org_unit is not None and user.org_unit.level == "street":
        return EscalationLevel.STREET
    return EscalationLevel.BUREAU + 1


def person_care(*, user: User, veteran: Veteran) -> dict:
    """The visits tab of a person: their visits, open due visits and life events (already scoped through
    the person, whom the caller found with ``visible_to``)."""
    return {
        "visits": Visit.objects.visible_to(user).filter(veteran=veteran).select_related("occasion", "family_member")
        .prefetch_related("photos")[:100],
        "open_tasks": DueVisit.objects.visible_to(user).open().filter(veteran=veteran).select_related("occasion")
        .order_by("due_date"),
        "life_events": LifeEvent.objects.visible_to(user).filter(veteran=veteran).select_related("occasion")[:50],
    }


def campaign_progress(*, user: User, campaign: Campaign, parent: OrgUnit | None = None) -> list[dict]:
    """Completion of a campaign per unit one level below ``parent`` (streets of the district by default):
    total, done, open, percent. Counted from the campaign's tasks the user may see."""
    tasks = DueVisit.objects.visible_to(user).filter(campaign=campaign).exclude(status=TaskStatus.CANCELLED)
    if parent is None and not user.sees_whole_district:
        parent = user.org_unit
    units = OrgUnit.objects.visible_to(user)
    if parent is None:
        children = units.filter(depth=2)
    else:
        children = units.filter(path__startswith=parent.path, depth=parent.depth + 1) or units.filter(pk=parent.pk)
    rows = []
    counts: dict[str, list[int]] = {}
    per_unit = (tasks.order_by().values("org_unit__path")
                .annotate(total=Count("id"), done=Count("id", filter=Q(status=TaskStatus.DONE)))
                .values_list("org_unit__path", "total", "done"))
    children = list(children)
    for path, total, done in per_unit:
        for child in children:
            if path.startswith(child.path):
                entry = counts.setdefault(child.path, [0, 0])
                entry[0] += total
                entry[1] += done
                break
    for child in children:
        total, done = counts.get(child.path, [0, 0])
        rows.append({"unit": child, "total": total, "done": done, "open": total - done,
                     "percent": round(100 * done / total) if total else None})
    return rows


def calendar_counts(*, user: User, first: date, last: date) -> dict[date, int]:
    """Open due visits per due date in [first, last], for the calendar view."""
    rows = (DueVisit.objects.visible_to(user).open().filter(due_date__gte=first, due_date__lte=last)
            .values("due_date").annotate(n=Count("id")).values_list("due_date", "n"))
    return dict(rows)
