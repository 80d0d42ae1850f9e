"""Every read of the care app that has rules: worklists, a person's visits, campaign progress, calendars."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from apps.core.lists.paging import KeysetPage, keyset_page
from apps.core.models import OrgUnit, User
from apps.registry.models import Veteran

from .choices import EscalationLevel, TaskStatus
from .models import LATE, Campaign, DueVisit, LifeEvent, Occasion, Visit, VisitRule

WORKLIST_VIEWS = ("today", "week", "overdue", "open", "escalated", "done")
WORKLIST_PAGE_SIZE = 50
COUNT_CAP = 1_000  # tab counts stop here ("1000+": more than a station works through in a week)
# The columns a worklist row shows. Only the person is joined: occasion, rule and unit are a handful of
# rows attached after the query (a five-table join cost more to plan than the page's rows to fetch).
WORKLIST_COLUMNS = ("id", "due_date", "opens_on", "level", "status", "closed_at", "completed_on", "visit_id",
                    "veteran", "veteran__id", "veteran__name", "veteran__phone", "veteran__address",
                    "occasion_id", "org_unit_id", "rule_id")


def _subtree(unit: OrgUnit):
    """The ids of a unit and the units below it (a subquery: the worklist index starts with the unit)."""
    return OrgUnit.objects.filter(path__startswith=unit.path).values("pk")


def _worklist_base(*, user: User, occasion: int | None, unit: OrgUnit | None, due: date | None,
                   units: Iterable[OrgUnit] | None = None):
    tasks = DueVisit.objects.visible_to(user, units=units)
    if occasion:
        tasks = tasks.filter(occasion_id=occasion)
    if unit is not None:
        below = [u.pk for u in units if u.path.startswith(unit.path)] if units is not None else _subtree(unit)
        tasks = tasks.filter(org_unit__in=below)
    if due is not None:
        tasks = tasks.filter(due_date=due)
    return tasks


def _week_end(on: date) -> date:
    return on + timedelta(days=6 - on.weekday())


def worklist(*, user: User, view: str = "open", on: date | None = None, occasion: int | None = None,
             unit: OrgUnit | None = None, due: date | None = None, units: Iterable[OrgUnit] | None = None
             ) -> QuerySet[DueVisit]:
    """The due visits a user works on: scoped, one view (due today, this week, overdue, all open, escalated
    to the user's level, done), optionally one occasion, one unit's subtree or one due date (from the
    calendar: then tasks not yet open are shown too); earliest due first."""
    on = on or timezone.localdate()
    return _view(_worklist_base(user=user, occasion=occasion, unit=unit, due=due, units=units), view=view, on=on,
                 user=user, due=due)


def _view(tasks: QuerySet[DueVisit], *, view: str, on: date, user: User, due: date | None) -> QuerySet[DueVisit]:
    if view == "done":
        return tasks.filter(status=TaskStatus.DONE)
    tasks = tasks.open()
    if due is None:
        tasks = tasks.filter(opens_on__lte=on)
    if view == "today":
        tasks = tasks.filter(due_date=on)
    elif view == "week":
        tasks = tasks.filter(due_date__gte=on, due_date__lte=_week_end(on))
    elif view == "overdue":
        tasks = tasks.filter(due_date__lt=on)
    elif view == "escalated":
        tasks = tasks.filter(level__gte=escalation_level_of(user))
    return tasks


def worklist_counts(*, user: User, on: date | None = None, occasion: int | None = None, unit: OrgUnit | None = None,
                    due: date | None = None, units: Iterable[OrgUnit] | None = None) -> dict[str, int]:
    """How many tasks each worklist view holds, under the same filters. Each count is capped at
    ``COUNT_CAP + 1`` (shown as "1000+"): a street can have a hundred thousand open tasks, and counting
    them all on every page would cost more than the page itself. The six capped counts are subqueries of one
    statement, each stopping at the cap on one of the worklist's indexes."""
    on = on or timezone.localdate()
    parts, params = [], []
    base = _worklist_base(user=user, occasion=occasion, unit=unit, due=due, units=units)
    for view in WORKLIST_VIEWS:
        tasks = _view(base, view=view, on=on, user=user, due=due)
        sql, view_params = tasks.order_by().values("pk")[:COUNT_CAP + 1].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS capped)")  # noqa: S608 - compiled by the ORM
        params.extend(view_params)
    with connection.cursor() as cursor:  # one round trip for the six counts
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return dict(zip(WORKLIST_VIEWS, cursor.fetchone(), strict=True))


def worklist_page(tasks: QuerySet[DueVisit], *, view: str, params, size: int = WORKLIST_PAGE_SIZE,
                  units: dict[int, OrgUnit] | None = None, occasions: dict[int, Occasion] | None = None
                  ) -> KeysetPage:
    """One page of a worklist, keyset-paged on (due date, id) by the list kit (``after``/``before`` cursors of
    ``params``; the tabs carry the counts, so the page counts nothing). Open tasks earliest due first; done tasks
    latest first: a cursor of one is the first page of the other.

    ``units`` and ``occasions`` (by id) are those the caller already holds (the filter form's choices);
    the rows' others are read in one query each."""
    tasks = tasks.select_related("veteran").only(*WORKLIST_COLUMNS)
    tasks = tasks.order_by("-due_date", "-id") if view == "done" else tasks.order_by("due_date", "id")
    page = keyset_page(tasks, params, size=size, count_cap=None)
    _attach(page.rows, units=units, occasions=occasions)
    return page


def _attach(rows: list[DueVisit], *, units: dict | None, occasions: dict | None) -> None:
    """Give each row its unit, occasion and rule objects from the given maps, reading only what is missing."""
    units, occasions = dict(units or {}), dict(occasions or {})
    missing_units = {row.org_unit_id for row in rows} - units.keys()
    if missing_units:
        units.update(OrgUnit.objects.in_bulk(missing_units))
    missing_occasions = {row.occasion_id for row in rows} - occasions.keys()
    if missing_occasions:
        occasions.update(Occasion.objects.in_bulk(missing_occasions))
    rules = VisitRule.objects.only("id", "name", "home_visit_required").in_bulk({row.rule_id for row in rows})
    for row in rows:
        DueVisit.org_unit.field.set_cached_value(row, units.get(row.org_unit_id))
        DueVisit.occasion.field.set_cached_value(row, occasions.get(row.occasion_id))
        DueVisit.rule.field.set_cached_value(row, rules.get(row.rule_id))


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
        "open_tasks": DueVisit.objects.visible_to(user).open().filter(veteran=veteran).select_related("occasion", "rule")
        .order_by("due_date"),
        "life_events": LifeEvent.objects.visible_to(user).filter(veteran=veteran).select_related("occasion")[:50],
    }


STREET_DEPTH, VILLAGE_DEPTH = 2, 3  # district (1) → street/town (2) → community/village (3)


def _campaign_figures(*, user: User, campaign: Campaign) -> dict[str, list]:
    """The campaign's figures per unit path of its tasks the user may see, grouped in SQL: ``[total, done, late,
    money, goods]``, where money (yuan) and goods (visits that gave some) come from the visits that answered
    the tasks. Two grouped queries: the counts read the tasks alone, only the visited ones join their visit."""
    tasks = DueVisit.objects.visible_to(user).filter(campaign=campaign).exclude(status=TaskStatus.CANCELLED).order_by()
    figures = {path: [total, done, late, Decimal(0), 0] for path, total, done, late in (
        tasks.values("org_unit__path")
        .annotate(total=Count("id"), done=Count("id", filter=Q(status=TaskStatus.DONE)), late=Count("id", filter=LATE))
        .values_list("org_unit__path", "total", "done", "late"))}
    for path, money, goods in (tasks.filter(status=TaskStatus.DONE, visit__isnull=False).values("org_unit__path")
                               .annotate(money=Sum("visit__money"), goods=Count("visit", filter=Q(visit__goods__gt="")))
                               .values_list("org_unit__path", "money", "goods")):
        figures[path][3:] = [money or Decimal(0), goods]
    return figures


def _add_up(figures: dict[str, list], units: Iterable[OrgUnit], *, key) -> list[dict]:
    """One completion row per unit of ``units``, adding up the figures of every path whose ``key(path)`` is the
    unit's path (units whose path no figure reaches show zeros)."""
    sums: dict[str, list] = {}
    for path, values in figures.items():
        entry = sums.setdefault(key(path), [0, 0, 0, Decimal(0), 0])
        for index, value in enumerate(values):
            entry[index] += value
    rows = []
    for unit in units:
        total, done, late, money, goods = sums.get(unit.path, [0, 0, 0, Decimal(0), 0])
        rows.append(completion_row({"unit": unit, "money": money, "goods": goods}, total=total, done=done, late=late))
    return rows


def campaign_progress(*, user: User, campaign: Campaign, parent: OrgUnit | None = None) -> list[dict]:
    """Completion of a campaign per unit one level below ``parent`` (streets of the district by default):
    total, done, of which late (visited after the due date), open, percent, and the condolence money and
    goods given. Counted from the campaign's tasks the user may see."""
    if parent is None and not user.sees_whole_district:
        parent = user.org_unit
    units = OrgUnit.objects.visible_to(user)
    if parent is None:
        children = units.filter(depth=STREET_DEPTH)
    else:
        children = units.filter(path__startswith=parent.path, depth=parent.depth + 1) or units.filter(pk=parent.pk)
    children = list(children)
    length = len(children[0].path) if children else 0  # the children are all of one depth
    return _add_up(_campaign_figures(user=user, campaign=campaign), children, key=lambda path: path[:length])


def campaign_village_rows(*, user: User, campaign: Campaign, parent: OrgUnit | None = None) -> list[dict]:
    """The campaign export's rows: one per community/village below ``parent`` (the user's own area by default)
    with its street's name (``street``), in tree order; a street or the district that has tasks of its own
    (people registered at that level) gets a row of its own too. Four queries, whatever the number of units."""
    within = parent if parent is not None else (None if user.sees_whole_district else user.org_unit)
    figures = _campaign_figures(user=user, campaign=campaign)
    village_length = VILLAGE_DEPTH * OrgUnit.steplen
    units = OrgUnit.objects.visible_to(user).filter(
        Q(depth=VILLAGE_DEPTH) | Q(depth__lt=VILLAGE_DEPTH, path__in=[path for path in figures
                                                                    if len(path) < village_length]))
    if within is not None:
        units = units.filter(path__startswith=within.path)
    units = list(units.order_by("path"))
    street_length = STREET_DEPTH * OrgUnit.steplen
    streets = dict(OrgUnit.objects.filter(depth=STREET_DEPTH, path__in={unit.path[:street_length] for unit in units})
                   .values_list("path", "name"))
    rows = _add_up(figures, units, key=lambda path: path[:village_length])
    for row in rows:
        row["street"] = streets.get(row["unit"].path[:street_length], "")
    return rows


def completion_row(row: dict, *, total: int, done: int, late: int) -> dict:
    """A completion row: visited (of which late, i.e. after the due date, and on time), not yet visited, and
    the shares visited and visited on time."""
    return {**row, "total": total, "done": done, "late": late, "on_time": done - late, "open": total - done,
            "percent": round(100 * done / total) if total else None,
            "on_time_percent": round(100 * (done - late) / total) if total else None}


def calendar_counts(*, user: User, first: date, last: date) -> dict[date, int]:
    """Open due visits per due date in [first, last], for the calendar view."""
    rows = (DueVisit.objects.visible_to(user).open().filter(due_date__gte=first, due_date__lte=last)
            .values("due_date").annotate(n=Count("id")).values_list("due_date", "n"))
    return dict(rows)


def campaign_list(*, user: User) -> list[dict]:
    """Every campaign, newest first, with the completion of the tasks the user may see (one grouped count)."""
    campaigns = list(Campaign.objects.select_related("rule__occasion"))
    counts = {row["campaign_id"]: row for row in (
        DueVisit.objects.visible_to(user).filter(campaign__in=[c.pk for c in campaigns])
        .exclude(status=TaskStatus.CANCELLED).order_by().values("campaign_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(status=TaskStatus.DONE)), late=Count("id", filter=LATE)))}
    rows = []
    for campaign in campaigns:
        row = counts.get(campaign.pk, {"total": 0, "done": 0, "late": 0})
        rows.append(completion_row({"campaign": campaign}, total=row["total"], done=row["done"], late=row["late"]))
    return rows


def visit_detail(*, user: User, pk: int) -> Visit:
    """One visit the user may see (``Visit.DoesNotExist`` otherwise: the view answers 404)."""
    return (Visit.objects.visible_to(user)
            .select_related("veteran", "occasion", "family_member", "org_unit", "created_by", "life_event__occasion")
            .prefetch_related("photos", "tasks__rule").get(pk=pk))


def rule_history(*, rule: VisitRule):
    """A rule's history for its page: field changes (pghistory events, newest first) and the changes of its
    selectors (who added or removed categories, tags, units…)."""
    from pghistory.models import MiddlewareEvents

    from apps.core.history import set_changes

    from .models import RULE_SELECTOR_EVENTS

    changes = MiddlewareEvents.objects.tracks(rule).order_by("-pgh_created_at")[:100]
    return changes, set_changes(rule, {name: f"care.{event}" for name, event in RULE_SELECTOR_EVENTS.items()})
