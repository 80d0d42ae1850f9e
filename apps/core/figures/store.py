"""Counting figures and keeping the counts.

``refresh(figure, period)`` runs the figure's ``compute`` once for the whole district, sums its rows up the
unit tree (a village's count is added to its street and to the district) and replaces the kept snapshot in one
transaction, so a reader sees the old counts or the new ones, never a mix. ``read`` answers any unit and any
set of figures from the kept rows in one query; a unit without a row counts zero.

Freshness: a snapshot older than ``FIGURES_MAX_AGE_MINUTES`` is counted again before it is used (``ensure``),
and task ``core.figures_refresh`` recounts the periods pages ask for most (``hot_periods``) ahead of time,
every ``FIGURES_REFRESH_MINUTES``. Per process, the rows of a snapshot are kept in memory keyed by the
snapshot's id and time (a recount changes the time), so a warm page costs one small query.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import FigureSnapshot, FigureValue, OrgUnit
from . import registry
from .periods import MONTH, QUARTER, YEAR, Period
from .registry import AMOUNT, LATEST, RATIO, STOCK, Figure


@dataclass(frozen=True)
class Reading:
    """One figure's value for one unit and period. ``value`` is the count or amount (for a ratio figure the
    numerator), ``base`` the denominator of a ratio; ``buckets`` the breakdown ``{bucket: (value, base)}``."""

    figure: Figure
    value: float | int
    base: float | int | None
    buckets: dict
    computed_at: datetime | None

    @property
    def ratio(self) -> float | None:
        """value / base for a ratio figure (``None`` when nothing was due: 0 of 0 is not 0 %)."""
        if self.base in (None, 0):
            return None
        return self.value / self.base

    @property
    def shown(self):
        """What a page shows: the percentage for a ratio figure, the local time for a moment, else the value."""
        return self.shown_of("")

    def shown_of(self, bucket: str = ""):
        """``shown`` for one bucket of the breakdown (``""``: the total); ``None`` when there is nothing to show
        (a ratio of nothing due, a moment never reached)."""
        value, base = self.bucket(bucket)
        if self.figure.kind == LATEST:
            return timezone.localtime(datetime.fromtimestamp(value, tz=UTC)) if value else None
        if self.figure.kind == RATIO:
            return None if not base else round(100 * value / base, 1)
        return value

    @property
    def text(self) -> str:
        """The total as pages and documents print it (``format_value``)."""
        return format_value(self.figure, self.shown)

    def bucket(self, bucket: str) -> tuple:
        if not bucket:
            return self.value, self.base
        return tuple(self.buckets.get(bucket, (0, 0 if self.figure.kind == RATIO else None)))


DASH = "—"


def format_value(figure: Figure, shown) -> str:
    """A shown value (``Reading.shown_of``) as printed: 1,234 / 1,234.50 (yuan) / 87.5% / 2026-05-31 18:02, and
    "—" for nothing. The one rule the dashboard, its downloads and the monthly report share."""
    if shown is None:
        return DASH
    if figure.kind == LATEST:
        return timezone.localtime(shown).strftime("%Y-%m-%d %H:%M")
    if figure.kind == RATIO:
        return f"{shown:.1f}%"
    if figure.kind == AMOUNT:
        return f"{shown:,.2f}"
    return f"{int(shown):,}" if float(shown).is_integer() else f"{shown:,.2f}"


def _number(value) -> float | int:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else round(float(value), 2)
    if isinstance(value, float):
        return round(value, 2)
    return int(value or 0)


def rollup(figure: Figure, rows: Iterable[registry.Row], units: Sequence[OrgUnit]) -> dict[int, dict[str, list]]:
    """Sum ``compute`` rows up the unit tree: ``{unit_id: {bucket: [value, base]}}`` for every unit at a
    level the figure splits by. Rows of units no longer in the tree are dropped."""
    by_pk = {u.pk: u for u in units}
    pk_by_path = {u.path: u.pk for u in units}
    step = OrgUnit.steplen
    latest = figure.kind == LATEST
    chains: dict[int, list[int]] = {}
    totals: dict[int, dict[str, list]] = {}
    for unit_id, bucket, value, base in rows:
        chain = chains.get(unit_id)
        if chain is None:
            unit = by_pk.get(unit_id)
            if unit is None:
                continue
            chain = [pk_by_path[unit.path[:d * step]] for d in range(1, unit.depth + 1) if unit.path[:d * step] in pk_by_path]
            chains[unit_id] = chain
        value = _number(value)
        base = None if base is None else _number(base)
        for pk in chain:
            slot = totals.setdefault(pk, {}).setdefault(bucket or "", [0, None])
            slot[0] = max(slot[0], value) if latest else slot[0] + value
            if base is not None:
                slot[1] = (slot[1] or 0) + base
    wanted = set(figure.levels)
    return {pk: {b: [round(v, 2) if isinstance(v, float) else v, round(x, 2) if isinstance(x, float) else x]
                 for b, (v, x) in data.items()}
            for pk, data in totals.items() if by_pk[pk].level in wanted}


def _lock_key(figure: str, period: str) -> int:
    return zlib.crc32(f"figure:{figure}:{period}".encode()) - 2**31


def max_age(period: Period | None = None, today=None) -> timedelta:
    """How old a kept count of ``period`` may be: ``FIGURES_MAX_AGE_MINUTES`` while the period runs (or when no
    period is given), ``FIGURES_CLOSED_MAX_AGE_MINUTES`` once it has ended (only back-dated entries change it)."""
    if period is not None and period.end < (today or timezone.localdate()):
        return timedelta(minutes=max(1, settings.FIGURES_CLOSED_MAX_AGE_MINUTES))
    return timedelta(minutes=max(1, settings.FIGURES_MAX_AGE_MINUTES))


def refresh(figure: Figure | str, period: Period, *, if_older_than: datetime | None = None,
            rows: list | None = None) -> FigureSnapshot:
    """Count one figure for one period and keep it. With ``if_older_than``, a snapshot counted since then (by
    another process that held the lock first) is kept as it is. ``rows``: the figure's ``compute`` rows when the
    caller has them already (a standing count taken on the same day for another period)."""
    if isinstance(figure, str):
        figure = registry.get(figure)
    from ..reference import snapshot as reference_snapshot

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(figure.key, period.key)])
        kept = FigureSnapshot.objects.filter(figure=figure.key, period=period.key).first()
        if kept is not None and if_older_than is not None and kept.computed_at >= if_older_than:
            return kept
        started = time.monotonic()
        now = timezone.now()
        values = rollup(figure, figure.compute(period) if rows is None else rows, reference_snapshot().units)
        took = int(1000 * (time.monotonic() - started))
        if kept is None:
            kept = FigureSnapshot.objects.create(figure=figure.key, period=period.key, computed_at=now, duration_ms=took)
        else:
            FigureValue.objects.filter(snapshot=kept).delete()
            kept.computed_at, kept.duration_ms = now, took
            kept.save(update_fields=["computed_at", "duration_ms"])
        FigureValue.objects.bulk_create(
            [FigureValue(snapshot=kept, unit_id=pk, data=data) for pk, data in values.items()], batch_size=2000)
    return kept


def ensure(figures: Iterable[Figure], periods: Iterable[Period]) -> dict[tuple[str, str], FigureSnapshot]:
    """The kept snapshots of these figures and periods, counting now those missing or older than the
    maximum age. ``{(figure key, period key): snapshot}``."""
    figures, periods = list(figures), list(periods)
    keys = [f.key for f in figures]
    found = {(s.figure, s.period): s for s in FigureSnapshot.objects.filter(
        figure__in=keys, period__in=[p.key for p in periods])}
    now = timezone.now()
    for figure in figures:
        for period in periods:
            cutoff = now - max_age(period)
            kept = found.get((figure.key, period.key))
            if kept is None or kept.computed_at < cutoff:
                found[(figure.key, period.key)] = refresh(figure, period, if_older_than=cutoff)
    return found


_cache_lock = threading.Lock()
_cache: OrderedDict[tuple, dict[int, dict]] = OrderedDict()
_CACHE_SNAPSHOTS = 512


def _values(snapshots: list[FigureSnapshot], unit_ids: Iterable[int]) -> dict[int, dict[int, dict]]:
    """``{snapshot id: {unit_id: data}}`` for the given units, from the process cache where it can."""
    unit_ids = sorted(set(unit_ids))
    answer: dict[int, dict[int, dict]] = {}
    missing: list[FigureSnapshot] = []
    units_key = hash(tuple(unit_ids))
    for snap in snapshots:
        key = (snap.pk, snap.computed_at, units_key)
        with _cache_lock:
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
        if hit is None:
            missing.append(snap)
        else:
            answer[snap.pk] = hit
    if missing:
        fetched: dict[int, dict[int, dict]] = {s.pk: {} for s in missing}
        for snapshot_id, unit_id, data in FigureValue.objects.filter(
                snapshot_id__in=[s.pk for s in missing], unit_id__in=unit_ids).values_list("snapshot_id", "unit_id", "data"):
            fetched[snapshot_id][unit_id] = data
        with _cache_lock:
            for snap in missing:
                _cache[(snap.pk, snap.computed_at, units_key)] = fetched[snap.pk]
                while len(_cache) > _CACHE_SNAPSHOTS:
                    _cache.popitem(last=False)
        answer.update(fetched)
    return answer


def read(figures: Iterable[Figure | str], periods: Iterable[Period], unit_ids: Iterable[int]
         ) -> dict[tuple[str, str, int], Reading]:
    """``{(figure key, period key, unit_id): Reading}`` for every combination asked (zero where nothing was
    counted). The caller has checked that the user may see these units (``apps.core.figures.scope``)."""
    figures = list(figures)
    found = [registry.get(f) if isinstance(f, str) else f for f in figures]
    if None in found:
        unknown = [f for f, figure in zip(figures, found, strict=True) if figure is None]
        raise LookupError(f"unknown figures: {unknown}")
    figures = found
    periods, unit_ids = list(periods), list(unit_ids)
    snapshots = ensure(figures, periods)
    values = _values(list(snapshots.values()), unit_ids)
    answer: dict[tuple[str, str, int], Reading] = {}
    for figure in figures:
        for period in periods:
            snap = snapshots[(figure.key, period.key)]
            per_unit = values.get(snap.pk, {})
            for unit_id in unit_ids:
                data = per_unit.get(unit_id) or {}
                total = data.get("", [0, 0 if figure.kind == RATIO else None])
                buckets = {b: tuple(v) for b, v in data.items() if b}
                answer[(figure.key, period.key, unit_id)] = Reading(
                    figure=figure, value=total[0], base=total[1] if figure.kind == RATIO else None,
                    buckets=buckets, computed_at=snap.computed_at)
    return answer


def hot_periods(today=None) -> list[Period]:
    """The periods pages ask for most: the running month, quarter and year, the ones before them and the same
    ones a year earlier (the dashboard's comparisons)."""
    found: list[Period] = []
    for kind in (MONTH, QUARTER, YEAR):
        current = Period.containing(today or timezone.localdate(), kind)
        for period in (current, current.previous(), current.same_last_year()):
            if period not in found:
                found.append(period)
    return found


def refresh_hot(*, today=None) -> dict:
    """Task ``core.figures_refresh``: recount every figure for the hot periods whose snapshot would be older than
    its maximum age before the next run. A standing count (``STOCK``) taken on the same day serves every period
    that ends on that day or runs today (the running month, quarter and year share today's count), so it is
    computed once. Returns counts for the task's result."""
    today = today or timezone.localdate()
    figures = registry.all_figures()
    periods = hot_periods(today)
    now = timezone.now()
    ahead = timedelta(minutes=max(1, settings.FIGURES_REFRESH_MINUTES))
    kept = {(s.figure, s.period): s.computed_at for s in FigureSnapshot.objects.filter(
        figure__in=[f.key for f in figures], period__in=[p.key for p in periods])}
    counted, computed, started = 0, 0, time.monotonic()
    for figure in figures:
        standing: dict = {}  # as-at day → compute rows (STOCK figures)
        for period in periods:
            cutoff = now - max_age(period, today) + ahead
            at = kept.get((figure.key, period.key))
            if at is not None and at >= cutoff:
                continue
            rows = None
            if figure.period_kind == STOCK:
                day = period.as_at(today)
                if day not in standing:
                    standing[day] = list(figure.compute(period))
                    computed += 1
                rows = standing[day]
            else:
                computed += 1
            refresh(figure, period, if_older_than=cutoff, rows=rows)
            counted += 1
    return {"counted": counted, "computed": computed, "figures": len(figures), "periods": len(periods),
            "seconds": round(time.monotonic() - started, 1)}


def clear_process_cache() -> None:
    with _cache_lock:
        _cache.clear()
