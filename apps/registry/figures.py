"""The registry's figures (``register_figures``, found by core discovery): people on the register and how they
break down, new records, transfers, 优待证 and the completeness and freshness of the records.

Each ``compute(period)`` is one grouped SQL query per figure (plus a small correction for stocks of past periods,
below) over the whole district at the record's responsible unit; the figure store sums the rows up the tree.

Standing counts (STOCK) are taken as at ``period.as_at()`` (the period's last day, or today while it runs) by the
rule ``selectors.on_register_q``: created by then, and on the register now or left after that day. A person
who moved within the district after that day is counted at the unit they belonged to then (the unit their first
later transfer left from: a correction of a few rows, read from the transfers after the day). What cannot be
told for a past day, because the record keeps no earlier value, is counted as it is now: collection category,
sex, the fields that make a record complete; care categories are counted by their from/until dates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.db import models
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core import figures, reference
from apps.core.figures import COUNT, LATEST, RATIO, STOCK, Figure, Period
from apps.core.models import OrgUnit

from .choices import CardEventKind, CardStatus, CodeKind, Sex
from .models import CardEvent, CareEntitlement, PreferentialCard, Transfer, Veteran
from .selectors import complete_q, day_end, on_register_q, years_before

APP = "registry"
GROUP = _("Veterans")
PEOPLE = pgettext_lazy("figure unit", "people")
PERCENT = pgettext_lazy("figure unit", "%")
AGE_BANDS = [("0-29", 0, 29), ("30-39", 30, 39), ("40-49", 40, 49), ("50-59", 50, 59), ("60-69", 60, 69),
             ("70-79", 70, 79), ("80+", 80, None)]
CHAR = models.CharField()


# --- counting helpers ----------------------------------------------------------------------------------------------


def _grouped(qs: QuerySet, *, unit: str, bucket, value, base=None, extra: Iterable[str] = ()) -> list[tuple]:
    """``qs`` grouped by unit (and ``extra`` columns, and the bucket): rows ``(unit, *extra, bucket, value, base)``."""
    names = ["_unit", *extra, "_bucket"]
    measures = {"_value": value}
    if base is not None:
        measures["_base"] = base
    qs = qs.order_by().annotate(_unit=F(unit), _bucket=bucket if bucket is not None else Value("", CHAR))
    rows = qs.values(*names).annotate(**measures).values_list(*names, *measures)
    return [(*row, None) if base is None else tuple(row) for row in rows]


def register_rows(qs: QuerySet, day: date, *, person: str = "", bucket=None, value=None, base=None,
                  bucket_name: Callable[[object], str] = str) -> list[tuple]:
    """Rows ``(unit, bucket, value, base)`` of ``qs`` (people, or rows that belong to a person through ``person``,
    e.g. ``veteran__``) restricted to the people on the register at the end of ``day``, at the unit each person
    belonged to on that day. ``value``/``base``: the aggregates (a count of rows by default)."""
    value = value if value is not None else Count("pk")
    qs = qs.filter(on_register_q(day, person))
    rows = [(u, bucket_name(b) if b is not None else "", v, x)
            for u, b, v, x in _grouped(qs, unit=f"{person}org_unit_id", bucket=bucket, value=value, base=base)]
    if day < timezone.localdate():
        # People who moved within the district after ``day``: their unit then is the one their first later
        # transfer left from. Their rows move from the unit of now to that one (few rows; none for today).
        later = Transfer.objects.filter(veteran=OuterRef(f"{person}pk" if person else "pk"), date__gt=day,
                                        from_unit__isnull=False, to_unit__isnull=False).order_by("date", "id")
        moved = qs.filter(Exists(later)).annotate(_was=Subquery(later.values("from_unit_id")[:1]))
        for unit, was, b, v, x in _grouped(moved, unit=f"{person}org_unit_id", bucket=bucket, value=value,
                                           base=base, extra=["_was"]):
            name = bucket_name(b) if b is not None else ""
            rows.append((unit, name, -v, None if x is None else -x))
            rows.append((was, name, v, x))
    return rows


def _people() -> QuerySet[Veteran]:
    return Veteran.objects.all()


def _code_buckets(kind: str) -> Callable[[], list[tuple[str, str]]]:
    def buckets() -> list[tuple[str, str]]:
        return [(code.code, code.name) for code in reference.snapshot().by_kind.get(kind, [])]
    return buckets


def _code_names() -> Callable[[object], str]:
    """Code id → its code, from one snapshot read (not one per row)."""
    codes = {pk: code.code for pk, code in reference.snapshot().codes.items()}
    return lambda pk: codes.get(pk, "")


def _code_pk(kind: str, code: str) -> int | None:
    found = next((c for c in reference.snapshot().by_kind.get(kind, []) if c.code == code), None)
    return found.pk if found is not None else None


def list_url(unit: OrgUnit, **params) -> str:
    """The veteran list of ``unit`` (with the units below it) with these filters (empty ones dropped)."""
    query = {"unit": unit.pk, **{k: v for k, v in params.items() if v not in (None, "")}}
    return f"{reverse('registry:veteran_list')}?{urlencode(query)}"


def register_params(period: Period) -> dict:
    """The list filter that reproduces the register of a past day (``as_at``); the default list (on the register
    now) for the running period."""
    day = period.as_at()
    return {} if day >= timezone.localdate() else {"as_at": day.isoformat()}


def age_band_bucket(day: date) -> Case:
    """The age band at ``day`` as a SQL expression (age in whole years on that day)."""
    whens = [When(birth_date__gt=years_before(day, high + 1), then=Value(code)) for code, _low, high in AGE_BANDS
             if high is not None]
    return Case(*whens, default=Value(AGE_BANDS[-1][0]), output_field=CHAR)


def age_band_birth_dates(band: str, day: date) -> tuple[date | None, date | None]:
    """Birth dates (from, to; inclusive) of people whose age at ``day`` is in the band."""
    for code, low, high in AGE_BANDS:
        if code == band:
            born_to = years_before(day, low)
            born_from = years_before(day, high + 1) + timedelta(days=1) if high is not None else None
            return born_from, born_to
    return None, None


# --- the figures ------------------------------------------------------------------------------------------------------


def veterans(period: Period):
    """在册人数: people on the register at the end of the period (``on_register_q``), at their unit on that day."""
    return register_rows(_people(), period.as_at())


def veterans_link(unit, period, bucket):
    return list_url(unit, **register_params(period))


def by_category(period: Period):
    """按采集类别: people on the register (as ``veterans``) by their main collection category (the one the list
    filters by; as it is now). The total is everyone on the register; a person without a main category is in no
    bucket."""
    day = period.as_at()
    rows = register_rows(_people(), day)
    return rows + register_rows(_people().filter(primary_category__isnull=False), day,
                                bucket=F("primary_category_id"), bucket_name=_code_names())


def by_category_link(unit, period, bucket):
    return list_url(unit, category=_code_pk(CodeKind.CATEGORY, bucket) if bucket else None,
                    **register_params(period))


def by_care_category(period: Period):
    """按优抚类别: people on the register holding a priority-care category on the last day (its from/until dates
    around that day, open ends open), by category; the total counts each such person once (a person may hold
    several categories)."""
    day = period.as_at()
    held = CareEntitlement.objects.filter(Q(start_date__isnull=True) | Q(start_date__lte=day),
                                          Q(end_date__isnull=True) | Q(end_date__gte=day), category__isnull=False)
    rows = register_rows(held, day, person="veteran__", value=Count("veteran_id", distinct=True))
    rows += register_rows(held, day, person="veteran__", bucket=F("category_id"), bucket_name=_code_names(),
                          value=Count("veteran_id", distinct=True))
    return rows


def by_care_category_link(unit, period, bucket):
    """The list's care filter ignores the category's from/until dates (closest list)."""
    return list_url(unit, care=_code_pk(CodeKind.CARE_CATEGORY, bucket) if bucket else None,
                    **register_params(period))


def by_age_band(period: Period):
    """按年龄段: people on the register by their age (whole years) on the period's last day."""
    day = period.as_at()
    return register_rows(_people(), day) + register_rows(_people(), day, bucket=age_band_bucket(day))


def by_age_band_link(unit, period, bucket):
    born_from, born_to = age_band_birth_dates(bucket, period.as_at()) if bucket else (None, None)
    return list_url(unit, born_from=born_from and born_from.isoformat(), born_to=born_to and born_to.isoformat(),
                    **register_params(period))


def by_sex(period: Period):
    """按性别: people on the register by sex (from the ID number)."""
    day = period.as_at()
    return register_rows(_people(), day) + register_rows(_people(), day, bucket=F("sex"))


def by_sex_link(unit, period, bucket):
    return list_url(unit, sex=bucket or None, **register_params(period))


def new_records(period: Period):
    """新建档: records created within the period (closed since or not), at the unit that keeps them now."""
    start, end = period.bounds()
    return _grouped(_people().filter(created_at__gte=start, created_at__lt=end), unit="org_unit_id", bucket=None,
                    value=Count("pk"))


def new_records_link(unit, period, bucket):
    return list_url(unit, status="all", created_from=period.start.isoformat(), created_to=period.end.isoformat())


def _lowest_common(units: dict[int, OrgUnit], a: int, b: int) -> int | None:
    """The lowest unit above (or equal to) both ``a`` and ``b``."""
    ua, ub = units.get(a), units.get(b)
    if ua is None or ub is None:
        return None
    step = OrgUnit.steplen
    common = 0
    while common + step <= min(len(ua.path), len(ub.path)) and ua.path[common:common + step] == ub.path[common:common + step]:
        common += step
    by_path = {u.path: u.pk for u in units.values()}
    return by_path.get(ua.path[:common])


def _transfer_rows(period: Period, *, into: bool):
    """迁入/迁出 across a unit's boundary: a transfer within the district counts for the receiving (or the giving)
    unit and the units above it up to, not including, the lowest unit above both ends; a move from A1 to A2 is a
    transfer for the villages, not for their street or the district. Rows: +n at the unit, -n at that common unit
    (the store sums up the tree). Grouped by the pair of units: one query."""
    pairs = (Transfer.objects.filter(date__gte=period.start, date__lte=period.end).order_by()
             .values("from_unit_id", "to_unit_id").annotate(n=Count("pk")).values_list("from_unit_id", "to_unit_id", "n"))
    units = reference.snapshot().unit_by_pk
    for from_unit, to_unit, n in pairs:
        here, there = (to_unit, from_unit) if into else (from_unit, to_unit)
        if here is None:
            continue
        yield here, "", n, None
        if there is not None:
            common = _lowest_common(units, here, there)
            if common is not None:
                yield common, "", -n, None


def transfers_in(period: Period):
    """迁入: records moved into the unit within the period (from another unit of the district or from outside)."""
    return list(_transfer_rows(period, into=True))


def transfers_out(period: Period):
    """迁出: records moved out of the unit within the period (to another unit of the district or out of it)."""
    return list(_transfer_rows(period, into=False))


def transfers_in_link(unit, period, bucket):
    """No list shows transfers by date: the unit's register (closest)."""
    return list_url(unit)


def transfers_out_link(unit, period, bucket):
    """No list shows transfers by date: the unit's records moved out of the district (closest)."""
    return list_url(unit, status="moved_out")


def _card_rows(period: Period, kinds: Iterable[str]):
    events = CardEvent.objects.filter(kind__in=list(kinds), date__gte=period.start, date__lte=period.end)
    return _grouped(events, unit="card__veteran__org_unit_id", bucket=None, value=Count("pk"))


def cards_applied(period: Period):
    """优待证申请: applications (event 申请) dated within the period, at the holder's unit now."""
    return _card_rows(period, [CardEventKind.APPLY])


def cards_issued(period: Period):
    """优待证发放: first issues (event 领取) dated within the period, at the holder's unit now; reissues after a
    loss and replacements are not counted."""
    return _card_rows(period, [CardEventKind.ISSUE])


WAITING = (CardStatus.APPLIED, CardStatus.APPROVED)


def cards_waiting(period: Period):
    """优待证待办: cards whose application waits for the county's approval (applied) or for production (approved),
    by status, at the holder's unit. Card status keeps no history: this is the state now, whatever the period
    (a standing count meant for the running period; stations see it on their home page)."""
    waiting = PreferentialCard.objects.filter(status__in=WAITING)
    by_status = _grouped(waiting, unit="veteran__org_unit_id", bucket=F("status"), value=Count("pk"))
    totals: dict[int, int] = {}
    for unit, _bucket, value, _base in by_status:
        totals[unit] = totals.get(unit, 0) + value
    return by_status + [(unit, "", value, None) for unit, value in totals.items()]


def cards_waiting_link(unit, period, bucket):
    """The waiting cards of the unit are on the station's cards list (reports); the register is the closest list
    for the bureau."""
    return list_url(unit)


def cards_link(unit, period, bucket):
    """No list shows card events: the unit's register (closest)."""
    return list_url(unit)


def completeness(period: Period):
    """资料完整率: of the people on the register at the end of the period, those whose required fields are filled
    (``selectors.complete_q``: name, ID, sex, birth date, phone, residential address, enlistment and discharge
    dates, a collection category), as they are now."""
    return register_rows(_people(), period.as_at(), value=Count("pk", filter=complete_q()), base=Count("pk"))


def completeness_link(unit, period, bucket):
    """The records still incomplete (what a station has to fill in)."""
    return list_url(unit, complete="no", **register_params(period))


def last_update(period: Period):
    """最近更新: the latest change of any record of the unit (closed ones too) up to the end of the period, as a
    Unix time; the newest of the units below for a street or the district. A record changed again after the
    period shows its latest change only, so a past period may show an earlier time than it had."""
    end = day_end(period.as_at())
    rows = (Veteran.objects.filter(updated_at__lt=end).order_by().values("org_unit_id")
            .annotate(at=Max("updated_at")).values_list("org_unit_id", "at"))
    return [(unit, "", int(at.timestamp()), None) for unit, at in rows if at is not None]


def last_update_link(unit, period, bucket):
    return list_url(unit, status="all")


def register_figures() -> None:
    def add(key, label, description, compute, link, order, **kw):
        figures.register(Figure(key=f"registry.{key}", label=label, description=description, compute=compute,
                                app=APP, group=GROUP, link=link, order=order, **kw))

    add("veterans", _("On the register"), _("People on the register at the end of the period."), veterans,
        veterans_link, 100, kind=COUNT, period_kind=STOCK, unit=PEOPLE)
    add("by_category", _("By collection category"),
        _("People on the register at the end of the period by main collection category."), by_category,
        by_category_link, 110, period_kind=STOCK, unit=PEOPLE, buckets=_code_buckets(CodeKind.CATEGORY))
    add("by_care_category", _("By priority-care category"),
        _("People on the register holding a priority-care category at the end of the period, by category."),
        by_care_category, by_care_category_link, 120, period_kind=STOCK, unit=PEOPLE,
        buckets=_code_buckets(CodeKind.CARE_CATEGORY))
    add("by_age_band", _("By age"), _("People on the register by their age at the end of the period."),
        by_age_band, by_age_band_link, 130, period_kind=STOCK, unit=PEOPLE,
        buckets=lambda: [(code, _("%(band)s years") % {"band": code}) for code, _low, _high in AGE_BANDS])
    add("by_sex", _("By sex"), _("People on the register at the end of the period by sex."), by_sex, by_sex_link,
        140, period_kind=STOCK, unit=PEOPLE, buckets=lambda: [(value, str(label)) for value, label in Sex.choices])
    add("new_records", _("New records"), _("Records created within the period."), new_records, new_records_link,
        150, unit=PEOPLE)
    add("transfers_in", _("Transfers in"),
        _("Records moved into the unit within the period, from another unit or from outside."), transfers_in,
        transfers_in_link, 160, unit=PEOPLE)
    add("transfers_out", _("Transfers out"),
        _("Records moved out of the unit within the period, to another unit or out of the district."),
        transfers_out, transfers_out_link, 170, unit=PEOPLE)
    add("cards_applied", _("Preferential cards applied for"),
        _("Applications for a preferential card dated within the period."), cards_applied, cards_link, 180,
        unit=pgettext_lazy("figure unit", "cards"))
    add("cards_issued", _("Preferential cards issued"),
        _("Preferential cards issued for the first time within the period."), cards_issued, cards_link, 190,
        unit=pgettext_lazy("figure unit", "cards"))
    add("cards_waiting", _("Preferential card applications waiting"),
        _("Cards applied for and waiting for approval or production, now."), cards_waiting, cards_waiting_link, 195,
        period_kind=STOCK, unit=pgettext_lazy("figure unit", "cards"),
        buckets=lambda: [(status.value, str(status.label)) for status in WAITING])
    add("completeness", _("Records complete"),
        _("Share of the records on the register whose required fields are filled."), completeness,
        completeness_link, 200, kind=RATIO, period_kind=STOCK, unit=PERCENT)
    add("last_update", _("Last record update"), _("When a record of the unit was last changed."), last_update,
        last_update_link, 210, kind=LATEST, period_kind=STOCK)

