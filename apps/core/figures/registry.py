"""The figure registry: every app names the figures it can count, once, from its ``figures.py``.

A figure is a number the bureau reports: people on the register by collection category, visits made, plaques
hung… Each is counted for the whole district at the finest unit the figure knows (the record's responsible
unit, usually a village) and summed up the unit tree by the store (``apps.core.figures.store``), so one
computation serves every unit, every scope and every drill-down. The dashboard, the report forms and the
monthly PDF read figures by key and know nothing about the app behind them.

A figure's ``compute(period)`` returns rows ``(unit_id, bucket, value, base)``:
- ``bucket`` ``""`` is the figure's total; other buckets are a breakdown (a category code, an age band). The
  store sums rows up the tree only, never across buckets, so a total that is not the sum of its buckets
  (a person in two categories) is right when the figure yields it itself. Every unit with a bucket row
  must have a total row too.
- ``base`` is ``None`` for counts and amounts; for a ratio figure (``kind="ratio"``) ``value`` is the
  numerator and ``base`` the denominator, both summed up the tree, and the ratio is taken last.
- a ``LATEST`` figure's value is a moment (a Unix timestamp, e.g. a unit's last record update): the tree
  keeps the latest, not the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from ..choices import OrgLevel

if TYPE_CHECKING:
    from ..models import OrgUnit
    from .periods import Period

Row = tuple[int, str, float | int, float | int | None]
COUNT, AMOUNT, RATIO, LATEST = "count", "amount", "ratio", "latest"
FLOW, STOCK = "flow", "stock"  # counted within the period / standing at its end
ALL_LEVELS = (OrgLevel.DISTRICT.value, OrgLevel.STREET.value, OrgLevel.COMMUNITY.value)


@dataclass(frozen=True)
class Figure:
    """One registered figure. ``label`` and ``description`` are lazy translations (Chinese first).

    - ``levels``: the unit levels it can be split by (a figure kept per street has no village rows);
    - ``period_kind``: ``FLOW`` (counted within the period) or ``STOCK`` (standing at its end);
    - ``kind``: ``COUNT``, ``AMOUNT`` (yuan), ``RATIO`` (value / base, shown as a percentage) or ``LATEST``
      (a timestamp, the newest wins);
    - ``buckets()``: the breakdown's ``[(code, label)]`` in display order, or ``None``;
    - ``link(unit, period, bucket)``: the URL of the scoped list behind the number (people, tasks, visits)
      for that unit, or ``None`` when there is none; the list itself scopes to the user;
    - ``unit``: what one counts (人, 次, 元, 户…), shown beside the number;
    - ``group``: the dashboard section it appears in; ``order`` sorts within the registry.
    """

    key: str
    label: Any
    description: Any
    compute: Callable[[Period], Iterable[Row]]
    app: str
    group: Any = ""
    kind: str = COUNT
    period_kind: str = FLOW
    levels: tuple[str, ...] = ALL_LEVELS
    unit: Any = ""
    buckets: Callable[[], list[tuple[str, str]]] | None = None
    link: Callable[[OrgUnit, Period, str], str | None] | None = None
    order: int = 0
    extra: dict = field(default_factory=dict)

    def splits_by(self, level: str) -> bool:
        return level in self.levels

    def bucket_label(self, bucket: str) -> str:
        if not bucket:
            return str(self.label)
        return dict(self.buckets() if self.buckets else ()).get(bucket, bucket)

    def url(self, unit: OrgUnit, period: Period, bucket: str = "") -> str | None:
        return self.link(unit, period, bucket) if self.link is not None else None


_figures: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    """Add a figure (from an app's ``figures.register_figures()``). The same key twice is a mistake unless it is
    the same figure registered again (a module imported twice)."""
    if figure.kind not in (COUNT, AMOUNT, RATIO, LATEST) or figure.period_kind not in (FLOW, STOCK):
        raise ImproperlyConfigured(f"figure {figure.key}: unknown kind {figure.kind!r} or period kind {figure.period_kind!r}")
    if not set(figure.levels) <= set(ALL_LEVELS) or OrgLevel.DISTRICT.value not in figure.levels:
        raise ImproperlyConfigured(f"figure {figure.key}: levels {figure.levels!r} must include the district")
    known = _figures.get(figure.key)
    if known is not None and (known.app, known.compute) != (figure.app, figure.compute):
        raise ImproperlyConfigured(f"figure {figure.key} registered twice ({known.app} and {figure.app})")
    _figures[figure.key] = figure
    return figure


def get(key: str) -> Figure | None:
    return _figures.get(key)


def all_figures() -> list[Figure]:
    """Every registered figure, by app order then ``order``."""
    return sorted(_figures.values(), key=lambda f: (f.order, f.key))


def parse_ref(text: str) -> tuple[str, str]:
    """A figure reference as written in a report form binding: ``key`` or ``key:bucket``."""
    key, _sep, bucket = (text or "").strip().partition(":")
    return key.strip(), bucket.strip()
