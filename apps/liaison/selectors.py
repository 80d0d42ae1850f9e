"""Reads of the bureau-to-street liaison (机关驻街); every one starts from ``visible_to(user)``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.core.choices import OrgLevel
from apps.core.models import OrgUnit, User

from .choices import LiaisonStatus
from .models import LiaisonPairing, LiaisonTask
from .services import OFFICER_ROLES


def pairing_list(*, user: User, street: OrgUnit | None = None, month: date | None = None,
                 active_only: bool = False) -> QuerySet[LiaisonPairing]:
    """The pairings a user may see, with their officers and, for ``month``, item counts by status."""
    qs = LiaisonPairing.objects.visible_to(user)
    if street is not None:
        qs = qs.filter(street=street)
    if active_only:
        qs = qs.filter(is_active=True)
    return pairing_rows(qs, month=month)


def pairing_rows(queryset: QuerySet[LiaisonPairing], *, month: date | None = None) -> QuerySet[LiaisonPairing]:
    """Pairings (already scoped and filtered) as the list shows them: street, officers in name order and, for
    ``month``, ``task_count`` and ``done_count``."""
    qs = queryset.select_related("street").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("real_name", "username")))
    if month is not None:
        in_month = Q(tasks__month=month)
        qs = qs.annotate(
            task_count=Count("tasks", filter=in_month),
            done_count=Count("tasks", filter=in_month & Q(tasks__status=LiaisonStatus.DONE)),
        )
    return qs


def pairing_detail(*, user: User, pk: int) -> LiaisonPairing:
    """One pairing in the user's area (``DoesNotExist`` otherwise: the page answers 404)."""
    return (LiaisonPairing.objects.visible_to(user).select_related("street")
            .prefetch_related(Prefetch("members", queryset=User.objects.order_by("real_name", "username")))
            .get(pk=pk))


def liaison_task_list(*, user: User, pairing: LiaisonPairing, month: date,
                      today: date | None = None) -> QuerySet[LiaisonTask]:
    """The items of one pairing's monthly list, each marked ``is_overdue`` (not done and past due)."""
    today = today or timezone.localdate()
    overdue = ExpressionWrapper(~Q(status=LiaisonStatus.DONE) & Q(due_date__lt=today), output_field=BooleanField())
    return (LiaisonTask.objects.visible_to(user).filter(pairing=pairing, month=month)
            .select_related("owner").annotate(is_overdue=overdue).order_by("due_date", "id"))


def has_open_items(*, user: User, pairing: LiaisonPairing, month: date) -> bool:
    """Whether the pairing has items not done in ``month`` (something to carry into the next month)."""
    return (LiaisonTask.objects.visible_to(user).filter(pairing=pairing, month=month)
            .exclude(status=LiaisonStatus.DONE).exists())


def liaison_task_detail(*, user: User, pk: int) -> LiaisonTask:
    return LiaisonTask.objects.visible_to(user).select_related("pairing__street", "owner").get(pk=pk)


def liaison_streets(*, user: User) -> QuerySet[OrgUnit]:
    """Streets/towns a user may pair or filter by."""
    return OrgUnit.objects.visible_to(user).filter(level=OrgLevel.STREET)


def owner_choices(*, user: User, pairing: LiaisonPairing) -> QuerySet[User]:
    """Who may own an item: the pairing's officers and the users of the paired street, as far as the user sees."""
    return (User.objects.visible_to(user).filter(is_active=True)
            .filter(Q(liaison_pairings=pairing) | Q(org_unit__path__startswith=pairing.street.path))
            .select_related("org_unit").distinct().order_by("org_unit__path", "real_name", "username"))


def member_choices(*, user: User, pairing: LiaisonPairing | None = None) -> QuerySet[User]:
    """Who may be picked as a liaison officer: active bureau staff and leadership at the district level, and the
    pairing's present officers (so that editing a pairing never drops one silently)."""
    officers = Q(is_active=True, org_unit__level=OrgLevel.DISTRICT, groups__name__in=OFFICER_ROLES)
    if pairing is not None:
        officers |= Q(liaison_pairings=pairing)
    return (User.objects.visible_to(user).filter(officers)
            .select_related("org_unit").distinct().order_by("real_name", "username"))


@dataclass
class Tally:
    """Counts of one pairing, one street or everything for a month."""

    planned: int = 0
    in_progress: int = 0
    done: int = 0
    overdue: int = 0
    done_on_time: int = 0

    @property
    def total(self) -> int:
        return self.planned + self.in_progress + self.done

    @property
    def open(self) -> int:
        return self.planned + self.in_progress

    @property
    def on_time_percent(self) -> int | None:
        """Share of the done items finished by their due date (None when nothing is done)."""
        return round(100 * self.done_on_time / self.done) if self.done else None

    @property
    def done_percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None

    def add(self, other: Tally) -> None:
        for name in ("planned", "in_progress", "done", "overdue", "done_on_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PairingRow:
    pairing: LiaisonPairing
    tally: Tally = field(default_factory=Tally)


@dataclass
class StreetSummary:
    street: OrgUnit
    rows: list[PairingRow] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


@dataclass
class MonthSummary:
    month: date
    today: date
    streets: list[StreetSummary] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


def _tallies(tasks: list[tuple[int, int, str, date, date | None]], today: date) -> dict[int, Tally]:
    """Per pairing, from (task id, pairing id, status, due date, completed on) rows."""
    tallies: dict[int, Tally] = defaultdict(Tally)
    for _pk, pairing_id, status, due, completed in tasks:
        tally = tallies[pairing_id]
        if status == LiaisonStatus.DONE:
            tally.done += 1
            if completed is not None and completed <= due:
                tally.done_on_time += 1
        else:
            setattr(tally, status, getattr(tally, status) + 1)
            if due < today:
                tally.overdue += 1
    return tallies


def pairing_month_tally(*, user: User, pairing: LiaisonPairing, month: date, today: date | None = None) -> Tally:
    """One pairing's counts for a month (as in the summary)."""
    rows = list(LiaisonTask.objects.visible_to(user).filter(pairing=pairing, month=month)
                .values_list("id", "pairing_id", "status", "due_date", "completed_on"))
    return _tallies(rows, today or timezone.localdate()).get(pairing.pk, Tally())


def liaison_month_summary(*, user: User, month: date, today: date | None = None,
                          street: OrgUnit | None = None) -> MonthSummary:
    """A month of liaison work per street: for each department paired with it, items by status, overdue
    (not done and past due), and done on time; totals per street and overall.

    Pairings that ended are listed only when they have items in the month."""
    today = today or timezone.localdate()
    pairings = LiaisonPairing.objects.visible_to(user).select_related("street").filter(
        Q(is_active=True) | Q(tasks__month=month)).distinct().order_by("street__path", "department")
    if street is not None:
        pairings = pairings.filter(street=street)
    tasks = (LiaisonTask.objects.visible_to(user).filter(month=month, pairing__in=pairings)
             .values_list("id", "pairing_id", "status", "due_date", "completed_on"))
    if street is not None:
        tasks = tasks.filter(pairing__street=street)
    tallies = _tallies(list(tasks), today)
    summary = MonthSummary(month=month, today=today)
    by_street: dict[int, StreetSummary] = {}
    for pairing in pairings:
        block = by_street.get(pairing.street_id)
        if block is None:
            block = by_street[pairing.street_id] = StreetSummary(street=pairing.street)
            summary.streets.append(block)
        row = PairingRow(pairing=pairing, tally=tallies.get(pairing.pk, Tally()))
        block.rows.append(row)
        block.tally.add(row.tally)
        summary.tally.add(row.tally)
    return summary
