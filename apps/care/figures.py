"""Care's figures (``register_figures``, found by core discovery): visits, due visits (待走访任务), coverage of the
key care recipients, overdue and escalated visits, 慰问金/慰问品 and life events answered within their days.

Visits, tasks and life events carry the person's responsible unit (moved with the person by a transfer), so
each figure is one grouped query on one table at that unit. Tasks "open on a day" are those created by the
end of that day and not closed before it (``closed_at``): a past period's overdue and escalated counts are
taken as the register of tasks stood then, as far as the tasks tell it (below).
"""

from __future__ import annotations

import time

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core import figures
from apps.core.figures import AMOUNT, RATIO, STOCK, Figure, Period
from apps.core.models import OrgUnit
from apps.registry.figures import register_rows
from apps.registry.models import CareEntitlement, Veteran
from apps.registry.selectors import day_end

from .choices import EscalationLevel, TaskStatus
from .engine import key_recipient_codes
from .models import DueVisit, Occasion, Visit

APP = "care"
GROUP = _("Visits and care")
VISITS = pgettext_lazy("figure unit", "times")
PERCENT = pgettext_lazy("figure unit", "%")


def _rows(qs, value=None, bucket: str | None = None):
    """``qs`` grouped by its unit (and ``bucket``): rows ``(unit, bucket, value, None)``."""
    names = ["org_unit_id"] + ([bucket] if bucket else [])
    grouped = qs.order_by().values(*names).annotate(_v=value if value is not None else Count("pk"))
    return [(row["org_unit_id"], str(row[bucket]) if bucket else "", row["_v"] or 0, None) for row in grouped]


def _in(period: Period, field: str = "date") -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lte": period.end})


def _open_on(day) -> Q:
    """Tasks open at the end of ``day``: created by then and not closed (done or cancelled) by then."""
    end = day_end(day)
    return Q(created_at__lt=end) & (Q(status=TaskStatus.OPEN) | Q(closed_at__gte=end))


def worklist_url(unit: OrgUnit, **params) -> str:
    query = {"unit": unit.pk, **{k: v for k, v in params.items() if v not in (None, "")}}
    return f"{reverse('care:worklist')}?{urlencode(query)}"


_OCCASIONS_SECONDS = 60.0
_occasions: tuple[float, list[tuple[int, str, str]]] = (0.0, [])


def _occasion_rows() -> list[tuple[int, str, str]]:
    """(pk, code, name) of the visit occasions in use, read at most once a minute per process: a dashboard asks
    for hundreds of links and breakdowns, and occasions change a few times a year (a new one shows within a
    minute)."""
    global _occasions
    read_at, rows = _occasions
    if time.monotonic() - read_at > _OCCASIONS_SECONDS:
        rows = list(Occasion.objects.filter(is_active=True, is_life_event=False)
                    .order_by("sort_order", "code").values_list("pk", "code", "name"))
        _occasions = (time.monotonic(), rows)
    return rows


def _occasion_pk(code: str) -> int | None:
    return next((pk for pk, found, _name in _occasion_rows() if found == code), None)


# --- the figures ------------------------------------------------------------------------------------------------------


def visits_done(period: Period):
    """走访次数: visits dated within the period (any way: home, station, phone), by occasion (its code)."""
    visits = Visit.objects.filter(_in(period))
    occasions = dict(Occasion.objects.values_list("pk", "code"))
    return _rows(visits) + [(u, occasions.get(int(b), b), v, x) for u, b, v, x in _rows(visits, bucket="occasion_id")]


def visits_done_link(unit, period, bucket):
    """No list shows visits by date: the tasks done (closest; a visit logged without a task is not there)."""
    return worklist_url(unit, view="done", occasion=_occasion_pk(bucket) if bucket else None)


def tasks_due(period: Period):
    """应走访: due visits whose due date falls within the period, except those cancelled (不再需要)."""
    return _rows(DueVisit.objects.filter(_in(period, "due_date")).exclude(status=TaskStatus.CANCELLED))


def tasks_due_link(unit, period, bucket):
    """The unit's open tasks (closest: the worklist has no due-date range; done ones are under 已走访)."""
    return worklist_url(unit, view="open")


def tasks_done(period: Period):
    """已走访: due visits answered by a visit dated within the period (on time or late)."""
    return _rows(DueVisit.objects.filter(_in(period, "completed_on"), status=TaskStatus.DONE))


def tasks_done_link(unit, period, bucket):
    return worklist_url(unit, view="done")


def key_coverage(period: Period):
    """重点对象走访覆盖率: of the key care recipients (a priority-care category marked key, held on the period's last
    day) on the register at the end of the period, those who had a visit of any kind dated within the period;
    counted at the person's unit on that day."""
    day = period.as_at()
    held = CareEntitlement.objects.filter(veteran=OuterRef("pk"), category__in=key_recipient_codes()).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=day), Q(end_date__isnull=True) | Q(end_date__gte=day))
    visited = Visit.objects.filter(veteran=OuterRef("pk"), date__gte=period.start, date__lte=day)
    people = Veteran.objects.filter(Exists(held)).annotate(_visited=Exists(visited))
    return register_rows(people, day, value=Count("pk", filter=Q(_visited=True)), base=Count("pk"))


def key_coverage_link(unit, period, bucket):
    """The unit's regular-contact visits still open (the key recipients not yet contacted; closest)."""
    return worklist_url(unit, view="open", occasion=_occasion_pk("contact"))


def overdue(period: Period):
    """逾期未访: tasks open at the end of the period (or now) whose due date had passed: the worklist's 已逾期
    tab for the running period."""
    day = period.as_at()
    return _rows(DueVisit.objects.filter(_open_on(day), due_date__lt=day))


def overdue_link(unit, period, bucket):
    return worklist_url(unit, view="overdue")


def escalated(period: Period):
    """已上报督办: open tasks escalated beyond the station (to the street or the bureau) at the end of the period.
    For a past day a task counts when its latest escalation was on or before that day (a task escalated to the
    street before it and to the bureau after it is missed: the task keeps its latest date only)."""
    day = period.as_at()
    return _rows(DueVisit.objects.filter(_open_on(day), level__gt=EscalationLevel.STATION, escalated_on__lte=day))


def escalated_link(unit, period, bucket):
    """The worklist's escalated tab shows what reached the user's own level (closest)."""
    return worklist_url(unit, view="escalated")


def money(period: Period):
    """慰问金: condolence money (yuan) given on visits dated within the period."""
    return _rows(Visit.objects.filter(_in(period), money__gt=0), value=Sum("money"))


def goods(period: Period):
    """慰问品: visits dated within the period on which goods were given."""
    return _rows(Visit.objects.filter(_in(period)).exclude(goods=""))


def life_events_on_time(period: Period):
    """六必访及时率: of the visits due after a life event (六必访, merit notices) whose deadline (event date plus the
    rule's ``due_within_days``) falls within the period, except those cancelled, and of which the deadline has
    passed or which were answered, those answered by a visit dated on or before the deadline. A task still open
    before its deadline counts in neither."""
    today = timezone.localdate()
    tasks = DueVisit.objects.filter(_in(period, "due_date"), life_event__isnull=False).exclude(
        status=TaskStatus.CANCELLED).filter(Q(status=TaskStatus.DONE) | Q(due_date__lt=today))
    on_time = Q(status=TaskStatus.DONE, completed_on__lte=F("due_date"))
    grouped = tasks.order_by().values("org_unit_id").annotate(v=Count("pk", filter=on_time), b=Count("pk"))
    return [(row["org_unit_id"], "", row["v"], row["b"]) for row in grouped]


def life_events_link(unit, period, bucket):
    """The unit's overdue must-visits (closest: the worklist does not split tasks by their life event)."""
    return worklist_url(unit, view="overdue", occasion=_occasion_pk("must_visit"))


def _occasion_buckets():
    return [(code, name) for _pk, code, name in _occasion_rows()]


def register_figures() -> None:
    def add(key, label, description, compute, link, order, **kw):
        figures.register(Figure(key=f"care.{key}", label=label, description=description, compute=compute,
                                app=APP, group=GROUP, link=link, order=order, **kw))

    add("visits_done", _("Visits made"), _("Visits dated within the period, by occasion."), visits_done,
        visits_done_link, 300, unit=VISITS, buckets=_occasion_buckets)
    add("tasks_due", _("Visits due"), _("Due visits whose due date falls within the period (not cancelled)."),
        tasks_due, tasks_due_link, 310, unit=VISITS)
    add("tasks_done", _("Due visits made"), _("Due visits answered by a visit dated within the period."),
        tasks_done, tasks_done_link, 320, unit=VISITS)
    add("key_coverage", _("Key recipients visited"),
        _("Share of the key care recipients on the register who had a visit within the period."), key_coverage,
        key_coverage_link, 330, kind=RATIO, period_kind=STOCK, unit=PERCENT)
    add("overdue", _("Overdue visits"), _("Due visits still open after their due date at the end of the period."),
        overdue, overdue_link, 340, period_kind=STOCK, unit=VISITS)
    add("escalated", _("Escalated visits"),
        _("Overdue visits escalated to the street or the bureau, open at the end of the period."), escalated,
        escalated_link, 350, period_kind=STOCK, unit=VISITS)
    add("money", _("Condolence money"), _("Condolence money given on visits within the period."), money,
        tasks_done_link, 360, kind=AMOUNT, unit=pgettext_lazy("figure unit", "yuan"))
    add("goods", _("Condolence goods"), _("Visits within the period on which goods were given."), goods,
        tasks_done_link, 370, unit=VISITS)
    add("life_events_on_time", _("Life events visited in time"),
        _("Share of the visits due after a life event that were made within the rule's days."),
        life_events_on_time, life_events_link, 380, kind=RATIO, unit=PERCENT)
