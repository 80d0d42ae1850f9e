"""Reads with rules. Home pages (below) and report forms (at the end: reports and their files only through
``visible_to(user)``; another street's report or file is missing, a 404).

Home-page selectors: a station's work for today and, for a street, its villages side by side.

Every number is counted from the same scoped querysets the lists behind it show (``visible_to(user)``; the care
worklist's own views and counts), so a number and its list agree. The page costs a fixed handful of queries
whatever the size of the area: the worklist's six capped counts in one statement, one grouped count each for
life events, the user's jobs and the 优待证 applications, and for a street two grouped counts of tasks by unit
and one look-up of the last record update per village (``village_rows``), never a query per village.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.care import selectors as care_selectors
from apps.care.choices import TaskStatus
from apps.care.models import DueVisit, Occasion
from apps.core import figures
from apps.core.choices import JobStatus, OrgLevel
from apps.core.models import Job, Notification, OrgUnit, User
from apps.registry import importing as registry_importing
from apps.registry.choices import CardStatus
from apps.registry.models import PreferentialCard, Veteran

from .models import Report, ReportFile, ReportForm

CARDS_WAITING = (CardStatus.APPLIED, CardStatus.APPROVED)  # applied: the county checks; approved: to be produced
LAST_UPDATE_FIGURE = "registry.last_update"
CARDS_FIGURE = "registry.cards_waiting"


def is_station_user(user: User) -> bool:
    """Station staff of a street or a village (not a district-wide role): their home page is today's work."""
    unit = getattr(user, "org_unit", None)
    return (user.is_authenticated and unit is not None and user.has_station_scope and not user.sees_whole_district
            and unit.level in (OrgLevel.STREET, OrgLevel.COMMUNITY) and user.has_perm("care.view_duevisit"))


def quarter_bounds(on: date) -> tuple[date, date]:
    period = figures.Period.containing(on, figures.QUARTER)
    return period.start, period.end


def _worklist_url(view: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in (("view", view), *params.items()) if v not in (None, ""))
    return f"{reverse('care:worklist')}?{query}"


@dataclass(frozen=True)
class Tile:
    """One number of the home page and the list that shows the same rows."""

    key: str
    value: int
    url: str
    capped: bool = False  # more than the worklist counts (shown as "1000+")


def life_events_waiting(*, user: User, on: date) -> list[dict]:
    """Open tasks that answer a life event (六必访, 送喜报) and are open today, per occasion of the task: the
    worklist's open tab filtered by that occasion lists them. One grouped query."""
    rows = (DueVisit.objects.visible_to(user).open().filter(life_event__isnull=False, opens_on__lte=on).order_by()
            .values("occasion_id").annotate(n=Count("id")).values_list("occasion_id", "n"))
    counts = dict(rows)
    names = dict(Occasion.objects.filter(pk__in=counts).values_list("pk", "name")) if counts else {}
    return [{"occasion_id": pk, "name": names.get(pk, ""), "count": n, "url": _worklist_url("open", occasion=pk)}
            for pk, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def jobs_needing_attention(*, user: User) -> dict:
    """The user's own background jobs that wait on them: failed ones (to run again or give up, in the download
    centre) and veteran imports checked and waiting for their confirmation. One query."""
    awaiting = Q(kind=registry_importing.JOB_KIND, status=JobStatus.DONE, params__phase="preview")
    found = Job.objects.visible_to(user).aggregate(
        failed=Count("id", filter=Q(status=JobStatus.FAILED)), awaiting=Count("id", filter=awaiting),
        awaiting_pk=Max("id", filter=awaiting))
    if found["awaiting"] == 1:
        imports_url = reverse("registry:import_detail", args=[found["awaiting_pk"]])
    else:
        imports_url = reverse("registry:import_upload")
    return {"failed": found["failed"], "failed_url": reverse("jobs:job_list"),
            "awaiting": found["awaiting"], "awaiting_url": imports_url}


def cards_waiting(*, user: User) -> dict | None:
    """优待证 applications in the user's area waiting for their next step, by status, from the kept figure
    ``registry.cards_waiting`` (counted for the whole district at most FIGURES_MAX_AGE_MINUTES ago: one small
    read instead of joining every card of a street to its holder), with the time it was counted."""
    if figures.get(CARDS_FIGURE) is None:  # the registry app's figures are not registered (a test's own set)
        return None
    unit = figures.scoped_unit(user)
    period = figures.Period.current(figures.MONTH)
    reading = figures.read([CARDS_FIGURE], [period], [unit.pk])[(CARDS_FIGURE, period.key, unit.pk)]
    counts = {status.value: int(reading.bucket(status.value)[0] or 0) for status in CARDS_WAITING}
    return {**counts, "counted_at": reading.computed_at}


def cards_waiting_list(*, user: User):
    """The cards behind ``cards_waiting`` (the list page's rows)."""
    return PreferentialCard.objects.visible_to(user).filter(status__in=CARDS_WAITING)


def station_home(*, user: User, on: date | None = None) -> dict:
    """Everything on a station's home page, for today (``on``)."""
    on = on or timezone.localdate()
    unit = user.org_unit
    counts = care_selectors.worklist_counts(user=user, on=on)
    cap = care_selectors.COUNT_CAP
    tiles = [Tile(view, min(counts[view], cap), _worklist_url(view), counts[view] > cap)
             for view in ("today", "overdue", "week")]
    if unit.level == OrgLevel.STREET:  # a village's tasks are never escalated to it (care.escalation_level_of)
        tiles.append(Tile("escalated", min(counts["escalated"], cap), _worklist_url("escalated"),
                          counts["escalated"] > cap))
    events = life_events_waiting(user=user, on=on)
    cards = cards_waiting(user=user) if user.has_perm("registry.view_preferentialcard") else None
    notifications = Notification.objects.visible_to(user)
    return {
        "unit": unit, "on": on, "tiles": tiles, "events": events, "events_total": sum(e["count"] for e in events),
        "jobs": jobs_needing_attention(user=user), "cards": cards,
        "villages": village_rows(user=user, street=unit, on=on) if unit.level == OrgLevel.STREET else None,
        "notifications": list(notifications[:5]),
        "unread": notifications.filter(read_at__isnull=True).count(),
    }


def _last_updates(*, user: User, subtree: list[OrgUnit], units: list[OrgUnit], row_by_id: dict, on: date
                  ) -> dict[int, datetime | None]:
    """The latest change of a record per row unit: the figure ``registry.last_update`` where it is registered
    (kept and summed up the tree by the figure store: one small query when warm), else counted here (one
    grouped query over the street's records)."""
    figure = figures.get(LAST_UPDATE_FIGURE)
    if figure is not None:
        period = figures.Period.containing(on, figures.QUARTER)
        readings = figures.read([figure], [period], [u.pk for u in units])
        return {u.pk: readings[(figure.key, period.key, u.pk)].shown for u in units}
    latest: dict[int, datetime] = {}
    for unit_id, when in (Veteran.objects.visible_to(user, units=subtree).order_by().values("org_unit_id")
                          .annotate(last=Max("updated_at")).values_list("org_unit_id", "last")):
        unit = row_by_id.get(unit_id)
        if unit is not None and when is not None and (unit.pk not in latest or when > latest[unit.pk]):
            latest[unit.pk] = when
    return {u.pk: timezone.localtime(latest[u.pk]) if u.pk in latest else None for u in units}


def village_rows(*, user: User, street: OrgUnit, on: date) -> list[dict]:
    """A street's villages, worst first: open tasks (open today, as the worklist's open tab), overdue, the
    tasks due this quarter and how many of them are done (coverage), and the last record update. The street's
    own row follows when people are registered at the street itself. Two grouped counts of tasks and one
    look-up of the last updates, whatever the number of villages."""
    start, end = quarter_bounds(on)
    # The street's units, read once: the counts name their ids (no join to the tree, no subquery) and group
    # by unit id; each id is mapped to its row (the village above it, or the street itself) here.
    subtree = list(OrgUnit.objects.visible_to(user).filter(path__startswith=street.path).order_by("path"))
    units = [u for u in subtree if u.depth in (street.depth, street.depth + 1)]
    village_length = (street.depth + 1) * OrgUnit.steplen
    by_path = {u.path: u for u in units}
    row_by_id = {u.pk: by_path.get(u.path[:village_length]) or by_path.get(u.path) for u in subtree}

    figures_by_unit = {u.pk: {"open": 0, "overdue": 0, "due": 0, "done": 0} for u in units}
    tasks = DueVisit.objects.visible_to(user, units=subtree).order_by()
    for unit_id, open_now, overdue, due in (
            tasks.open().values("org_unit_id").annotate(
                open_now=Count("id", filter=Q(opens_on__lte=on)),
                overdue=Count("id", filter=Q(opens_on__lte=on, due_date__lt=on)),
                due=Count("id", filter=Q(due_date__gte=start, due_date__lte=end)))
            .values_list("org_unit_id", "open_now", "overdue", "due")):
        unit = row_by_id.get(unit_id)
        if unit is not None:
            entry = figures_by_unit[unit.pk]
            entry["open"] += open_now
            entry["overdue"] += overdue
            entry["due"] += due
    for unit_id, done in (tasks.filter(status=TaskStatus.DONE, due_date__gte=start, due_date__lte=end)
                          .values("org_unit_id").annotate(n=Count("id")).values_list("org_unit_id", "n")):
        unit = row_by_id.get(unit_id)
        if unit is not None:
            figures_by_unit[unit.pk]["due"] += done
            figures_by_unit[unit.pk]["done"] += done
    last = _last_updates(user=user, subtree=subtree, units=units, row_by_id=row_by_id, on=on)
    rows = []
    for unit in units:
        entry = figures_by_unit[unit.pk]
        is_street = unit.pk == street.pk
        if is_street and not any(entry.values()):
            continue
        coverage = round(100 * entry["done"] / entry["due"]) if entry["due"] else None
        rows.append({
            "unit": unit, "is_street": is_street, **entry, "coverage": coverage, "last_update": last.get(unit.pk),
            "open_url": _worklist_url("open", unit=unit.pk), "overdue_url": _worklist_url("overdue", unit=unit.pk),
            "people_url": f"{reverse('registry:veteran_list')}?unit={unit.pk}",
        })
    # Worst first: most overdue, then the lowest coverage (nothing due counts as done), then most open.
    rows.sort(key=lambda r: (-r["overdue"], 101 if r["coverage"] is None else r["coverage"], -r["open"],
                             r["unit"].path))
    return rows


# --- report forms ---
def report_form_list(*, user: User) -> QuerySet[ReportForm]:
    forms = ReportForm.objects.defer("template").order_by("code")
    if not user.has_perm("reports.manage_forms"):
        forms = forms.filter(is_active=True)
    return forms


def report_form_detail(*, user: User, pk: int) -> ReportForm:
    return report_form_list(user=user).get(pk=pk)


def report_list(*, user: User, form: ReportForm | None = None) -> QuerySet[Report]:
    reports = (Report.objects.visible_to(user).select_related("form", "org_unit", "generated_by", "reviewed_by", "locked_by")
               .defer("form__template").annotate(versions=Count("files")))
    if form is not None:
        reports = reports.filter(form=form)
    return reports.order_by("-period", "org_unit__path", "form__code")


def report_detail(*, user: User, pk: int) -> Report:
    return report_list(user=user).get(pk=pk)


def report_file_detail(*, user: User, pk: int) -> ReportFile:
    return (ReportFile.objects.visible_to(user).select_related("report__form", "report__org_unit", "created_by")
            .defer("report__form__template").get(pk=pk))


def report_units(*, user: User, form: ReportForm) -> QuerySet[OrgUnit]:
    """The units of the user's area a report of this form may be made for."""
    return OrgUnit.objects.visible_to(user).filter(level__in=form.unit_levels, is_active=True).order_by("path")
