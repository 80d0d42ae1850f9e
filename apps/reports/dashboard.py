"""The leadership dashboard, assembled from the figure registry (``apps.core.figures``).

Generic over ``figures.all_figures()``: a figure registered by a later app appears in its group's cards (and as a
chart when it has buckets) without a change here. Only the layout names keys: the drill table's main columns
(``MAIN_KEYS``, or any figure with ``extra["main"]``) and the station table (``STATION_KEYS``).

Cost: one ``figures.read`` for every figure × (period, previous, same period last year) × (unit + its children),
and one for the station table (three figures × villages of the unit); each is two small queries cold (the kept
snapshots, then their rows) and one warm (the store keeps rows per process, keyed by snapshot time). Nothing here
queries per figure or per unit: the unit tree comes from the per-process reference snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from apps.core import figures
from apps.core.choices import OrgLevel
from apps.core.figures import AMOUNT, LATEST, RATIO, Figure, Period, Reading
from apps.core.lists.tables import escape
from apps.core.models import OrgUnit, User
from apps.core.querysets import visible_unit_ids
from apps.core.reference import Snapshot

MAIN_KEYS = ("registry.veterans", "registry.new_records", "care.visits_done", "care.key_coverage", "care.overdue",
             "honors.plaque_coverage")
MAX_MAIN = 6  # without any of MAIN_KEYS registered, the first figures without buckets stand in
COMPLETENESS, LAST_UPDATE, VISITS = "registry.completeness", "registry.last_update", "care.visits_done"
STATION_KEYS = (COMPLETENESS, LAST_UPDATE, VISITS)
PIE_MAX_BUCKETS = 4  # a breakdown of up to four parts reads best as a pie, more as bars
DASH = "—"


# --- periods -------------------------------------------------------------------------------------


def period_from(text: str | None) -> Period:
    """The period asked for (``2026-Q4``, ``2026-11``, ``2026``), the running quarter when none; a clear Chinese
    error for a malformed one or one that has not started."""
    if not (text or "").strip():
        return Period.current(figures.QUARTER)
    period = Period.parse(text)
    period.check_not_future()
    return period


def period_choices(selected: Period | None) -> list[tuple[str, list[Period]]]:
    """The period drop-down: recent months, quarters and years (the selected one kept even when older)."""
    groups = [(_("Month"), figures.recent_periods(figures.MONTH, 12)),
              (_("Quarter"), figures.recent_periods(figures.QUARTER, 8)),
              (_("Year"), figures.recent_periods(figures.YEAR, 5))]
    if selected is not None and not any(selected in periods for _label, periods in groups):
        for _label, periods in groups:
            if periods[0].kind == selected.kind:
                periods.append(selected)
                break
    return groups


# --- formatting ----------------------------------------------------------------------------------


def raw_value(reading: Reading, bucket: str = ""):
    """The number behind what is shown: a percentage for a ratio, a local datetime for a moment, else the value."""
    return reading.shown_of(bucket)


format_number = figures.format_value


def unit_suffix(figure: Figure) -> str:
    """What one counts, shown after the number (a ratio carries its % and a moment needs none)."""
    if figure.kind in (RATIO, LATEST):
        return ""
    return str(figure.unit or (_("yuan") if figure.kind == AMOUNT else ""))


@dataclass(frozen=True)
class Delta:
    """A comparison with an earlier period: ``direction`` up/down/same, or None when nothing can be compared."""

    text: str
    direction: str | None
    against: str  # the earlier period's label

    @property
    def icon(self) -> str:
        return {"up": "arrow-up", "down": "arrow-down"}.get(self.direction or "", "")


def delta(current: Reading, earlier: Reading, against: Period) -> Delta:
    figure = current.figure
    if figure.kind == LATEST:
        return Delta(DASH, None, against.label)
    a, b = raw_value(current), raw_value(earlier)
    if a is None or b is None:
        return Delta(DASH, None, against.label)
    diff = round(a - b, 2)
    direction = "up" if diff > 0 else "down" if diff < 0 else "same"
    if direction == "same":
        return Delta(_("%(diff)s pts") % {"diff": "0.0"} if figure.kind == RATIO else "0", direction, against.label)
    if figure.kind == RATIO:
        text = _("%(diff)s pts") % {"diff": f"{diff:+.1f}"}
    elif figure.kind == AMOUNT:
        text = f"{diff:+,.2f}"
    else:
        text = f"{int(diff):+,}" if float(diff).is_integer() else f"{diff:+,.2f}"
    return Delta(text, direction, against.label)


def as_of(reading: Reading) -> str:
    """"截至 HH:MM" (with the day when counted on another day)."""
    if reading.computed_at is None:
        return ""
    at = timezone.localtime(reading.computed_at)
    if at.date() == timezone.localdate():
        return _("As of %(time)s") % {"time": at.strftime("%H:%M")}
    return _("As of %(time)s") % {"time": at.strftime("%m-%d %H:%M")}


# --- the page ------------------------------------------------------------------------------------


@dataclass
class Number:
    """One figure's number for one unit (and bucket): what is shown, the raw value and the list behind it."""

    text: str
    raw: object
    url: str | None

    @property
    def html(self) -> str:
        if self.url:
            return f'<a href="{escape(self.url)}">{escape(self.text)}</a>'
        return escape(self.text)


@dataclass
class Card:
    figure: Figure
    number: Number
    suffix: str
    previous: Delta
    last_year: Delta
    as_of: str
    computed_at: datetime | None


@dataclass
class Chart:
    """A bucketed figure for the unit: a pie or bar chart, with its table (the rows) for readers without one."""

    figure: Figure
    kind: str  # "pie" or "bar"
    rows: list[tuple[str, str, Number]]  # (bucket, label, number)
    total: Number

    @property
    def element_id(self) -> str:
        return "chart-" + self.figure.key.replace(".", "-").replace("_", "-")


@dataclass
class Group:
    label: str
    cards: list[Card]
    charts: list[Chart]


@dataclass
class DrillRow:
    unit: OrgUnit
    drill: bool  # links to the unit's own dashboard
    cells: list[Number]


@dataclass
class StationRow:
    unit: OrgUnit
    street: str
    cells: list[Number]


@dataclass
class Dashboard:
    user: User
    unit: OrgUnit
    period: Period
    previous: Period
    last_year: Period
    running_quarter: Period
    lineage: list[OrgUnit]
    children: list[OrgUnit]
    groups: list[Group]
    main: list[Figure]  # drill table columns
    drill_rows: list[DrillRow]
    drill_totals: list[Number]
    station_figures: list[Figure]
    stations: list[StationRow]
    station_totals: list[Number]
    readings: dict = field(repr=False, default_factory=dict)

    def drill_html(self) -> SafeString:
        """The drill table's body, made in Python (a template loop per cell cost more than the page's queries)."""
        period = self.period.key
        lines = []
        for row in self.drill_rows:
            name = (f'<a class="dash-drill" href="?unit={row.unit.pk}&amp;period={period}">{escape(row.unit.name)}</a>'
                    if row.drill else escape(row.unit.name))
            cells = "".join(f'<td class="text-end">{cell.html}</td>' for cell in row.cells)
            lines.append(f'<tr data-unit="{row.unit.pk}"><th scope="row" class="fw-normal">{name}</th>{cells}</tr>')
        return mark_safe("\n".join(lines))  # noqa: S308 - every value escaped above

    def stations_html(self) -> SafeString:
        period = self.period.key
        lines = []
        for rank, row in enumerate(self.stations, start=1):
            name = (escape(row.unit.name) if row.unit.pk == self.unit.pk else
                    f'<a href="?unit={row.unit.pk}&amp;period={period}">{escape(row.unit.name)}</a>')
            cells = "".join(f'<td class="text-end">{cell.html}</td>' for cell in row.cells)
            lines.append(f'<tr data-unit="{row.unit.pk}"><td class="text-end text-muted">{rank}</td>'
                         f'<td>{escape(row.street)}</td><th scope="row" class="fw-normal">{name}</th>{cells}</tr>')
        return mark_safe("\n".join(lines))  # noqa: S308 - every value escaped above

    def chart_data(self) -> dict:
        """What ``static/js/dashboard.js`` draws (passed with ``json_script``)."""
        charts = [{"id": chart.element_id, "kind": chart.kind, "title": str(chart.figure.label),
                   "unit": unit_suffix(chart.figure), "ratio": chart.figure.kind == RATIO,
                   "labels": [label for _b, label, _n in chart.rows],
                   "values": [n.raw for _b, _l, n in chart.rows], "urls": [n.url for _b, _l, n in chart.rows]}
                  for group in self.groups for chart in group.charts]
        drill = [row for row in self.drill_rows if row.unit.pk != self.unit.pk]
        child_figures = [{"key": f.key, "label": str(f.label), "unit": unit_suffix(f), "ratio": f.kind == RATIO,
                          "values": [row.cells[i].raw for row in drill], "urls": [row.cells[i].url for row in drill]}
                         for i, f in enumerate(self.main) if f.kind != LATEST]
        return {"charts": charts, "children": {
            "units": [row.unit.name for row in drill],
            "drill": [f"?unit={row.unit.pk}&period={self.period.key}" if row.drill else None for row in drill],
            "figures": child_figures}}


def children_of(unit: OrgUnit, snapshot: Snapshot) -> list[OrgUnit]:
    return [u for u in snapshot.units if u.depth == unit.depth + 1 and u.path.startswith(unit.path)]


def stations_of(unit: OrgUnit, snapshot: Snapshot) -> list[OrgUnit]:
    """The community/village stations at or below ``unit`` (the unit itself when it is one)."""
    return [u for u in snapshot.units if u.path.startswith(unit.path) and u.level == OrgLevel.COMMUNITY.value]


def main_figures(shown: Sequence[Figure]) -> list[Figure]:
    marked = [f for f in shown if f.key in MAIN_KEYS or f.extra.get("main")]
    if marked:
        order = {key: i for i, key in enumerate(MAIN_KEYS)}
        return sorted(marked, key=lambda f: order.get(f.key, len(order)))
    return [f for f in shown if f.buckets is None and f.kind != LATEST][:MAX_MAIN]


def _number(reading: Reading, unit: OrgUnit, period: Period, bucket: str = "") -> Number:
    raw = raw_value(reading, bucket)
    return Number(format_number(reading.figure, raw), raw, reading.figure.url(unit, period, bucket))


def visible_lineage(user: User, unit: OrgUnit, snapshot: Snapshot) -> list[OrgUnit]:
    """The unit's ancestors within the user's area, down to the unit (the breadcrumb)."""
    visible = visible_unit_ids(user, snapshot.lineage(unit.pk))
    return [u for u in snapshot.lineage(unit.pk) if u.pk in visible]


def figures_version(*, unit: OrgUnit, period: Period) -> str:
    """The counting times of every figure the dashboard of ``unit`` shows for ``period`` (counting now those
    missing or too old): the kept page body's key changes whenever one of them is recounted."""
    shown = [f for f in figures.all_figures() if f.splits_by(unit.level)]
    periods = [period, period.previous(), period.same_last_year(), Period.current(figures.QUARTER)]
    kept = figures.ensure(shown, periods)
    stamps = sorted(f"{key}@{period_key}@{snap.pk}@{snap.computed_at.timestamp()}" for (key, period_key), snap in kept.items())
    return hashlib.blake2b("|".join(stamps).encode(), digest_size=12).hexdigest()


def dashboard_build(*, user: User, unit: OrgUnit, period: Period, snapshot: Snapshot) -> Dashboard:
    """The dashboard of ``unit`` (already scoped: ``figures.scoped_unit``) for ``period``."""
    previous, last_year = period.previous(), period.same_last_year()
    running_quarter = Period.current(figures.QUARTER)
    children = children_of(unit, snapshot)
    child_level = children[0].level if children else None
    shown = [f for f in figures.all_figures() if f.splits_by(unit.level)]
    lineage = visible_lineage(user, unit, snapshot)

    # One read for the cards, charts and the drill table.
    readings = figures.read(shown, [period, previous, last_year], [unit.pk] + [c.pk for c in children]) if shown else {}

    groups: dict[str, Group] = {}
    for figure in shown:
        reading = readings[(figure.key, period.key, unit.pk)]
        group = groups.setdefault(str(figure.group or ""), Group(str(figure.group or _("Other figures")), [], []))
        group.cards.append(Card(
            figure=figure, number=_number(reading, unit, period), suffix=unit_suffix(figure),
            previous=delta(reading, readings[(figure.key, previous.key, unit.pk)], previous),
            last_year=delta(reading, readings[(figure.key, last_year.key, unit.pk)], last_year),
            as_of=as_of(reading), computed_at=reading.computed_at))
        if figure.buckets is not None:
            buckets = figure.buckets()
            if buckets:
                group.charts.append(Chart(
                    figure=figure, kind=figure.extra.get("chart") or ("pie" if len(buckets) <= PIE_MAX_BUCKETS else "bar"),
                    rows=[(code, str(label), _number(reading, unit, period, code)) for code, label in buckets],
                    total=_number(reading, unit, period)))

    main = [f for f in main_figures(shown) if child_level is None or f.splits_by(child_level)]
    # Every child drills down: a village's own dashboard shows its figures and its station row.
    drill_rows = [DrillRow(child, True, [_number(readings[(f.key, period.key, child.pk)], child, period) for f in main])
                  for child in children]
    drill_totals = [_number(readings[(f.key, period.key, unit.pk)], unit, period) for f in main] if shown else []

    station_figures, stations, station_totals = _station_table(unit, period, running_quarter, snapshot)
    return Dashboard(user=user, unit=unit, period=period, previous=previous, last_year=last_year,
                     running_quarter=running_quarter, lineage=lineage, children=children,
                     groups=list(groups.values()), main=main, drill_rows=drill_rows, drill_totals=drill_totals,
                     station_figures=station_figures, stations=stations, station_totals=station_totals,
                     readings=readings)


def _station_table(unit: OrgUnit, period: Period, running_quarter: Period, snapshot: Snapshot):
    """Completeness and freshness per village station, worst first: share of complete records, last update,
    visits logged in the running quarter. One read (three figures × the villages)."""
    station_figures = [f for key in STATION_KEYS if (f := figures.get(key)) is not None and f.splits_by(unit.level)]
    if not station_figures:
        return [], [], []
    stations = stations_of(unit, snapshot)
    if not stations:
        return station_figures, [], []
    periods = [period] if period == running_quarter else [period, running_quarter]
    readings = figures.read(station_figures, periods, [unit.pk] + [s.pk for s in stations if s.pk != unit.pk])

    def period_of(figure: Figure) -> Period:
        return running_quarter if figure.key == VISITS else period

    names = {u.pk: u.name for u in snapshot.units}
    step = OrgUnit.steplen
    street_pk = {u.path: u.pk for u in snapshot.units if u.level == OrgLevel.STREET.value}
    rows = []
    for station in stations:
        cells = [_number(readings[(f.key, period_of(f).key, station.pk)], station, period_of(f)) for f in station_figures]
        street = street_pk.get(station.path[:2 * step])
        rows.append(StationRow(station, names.get(street, "") if street else "", cells))

    def worst_first(row: StationRow):
        key = []
        for figure, cell in zip(station_figures, row.cells, strict=True):
            if figure.kind == LATEST:
                key.append((cell.raw is None, cell.raw.timestamp() if cell.raw else 0))
            else:
                key.append((cell.raw is None, cell.raw or 0))
        return key

    rows.sort(key=worst_first)
    totals = [_number(readings[(f.key, period_of(f).key, unit.pk)], unit, period_of(f)) for f in station_figures]
    return station_figures, rows, totals


# --- tables as xlsx --------------------------------------------------------------------------------


def _xlsx_kind(figure: Figure) -> str:
    return {RATIO: "percent", LATEST: "datetime", AMOUNT: "decimal"}.get(figure.kind, "int")


def _cell(figure: Figure, number: Number):
    """The xlsx value of a number: a fraction for a percentage column, a naive local time for a moment."""
    if number.raw is None:
        return None
    if figure.kind == RATIO:
        return round(number.raw / 100, 4)
    return number.raw


def _header(figure: Figure) -> str:
    suffix = unit_suffix(figure)
    return f"{figure.label}（{suffix}）" if suffix else str(figure.label)


@dataclass
class Table:
    """One dashboard table as the xlsx writer takes it: aggregates only, never a person."""

    name: str
    title: str
    columns: list
    rows: list[tuple]
    totals: dict


def dashboard_table(dash: Dashboard, name: str) -> Table | None:
    """``drill``, ``completeness`` or a figure key with buckets (that figure per child unit and bucket); None for
    a table the page does not show."""
    from apps.core.exports.xlsx import XlsxColumn

    unit_column = XlsxColumn(_("Unit"), "text", 18)
    title_base = f"{dash.unit.name} · {dash.period.label}"
    if name == "drill":
        figs = dash.main
        totals = {0: _("Total")}
        for i, (figure, number) in enumerate(zip(figs, dash.drill_totals, strict=True), start=1):
            totals[i] = "sum" if figure.kind not in (RATIO, LATEST) else _cell(figure, number)
        return Table(name, f"{title_base} · {_('By unit')}",
                     [unit_column] + [XlsxColumn(_header(f), _xlsx_kind(f), 16) for f in figs],
                     [(row.unit.name, *[_cell(f, n) for f, n in zip(figs, row.cells, strict=True)])
                      for row in dash.drill_rows], totals)
    if name == "completeness":
        if not dash.station_figures:
            return None
        figs = dash.station_figures
        totals = {0: _("Total")}
        for i, (figure, number) in enumerate(zip(figs, dash.station_totals, strict=True), start=2):
            totals[i] = "sum" if figure.kind not in (RATIO, LATEST) else _cell(figure, number)
        return Table(name, f"{title_base} · {_('Station completeness and freshness')}",
                     [XlsxColumn(_("Street/town"), "text", 16), XlsxColumn(_("Station"), "text", 18)]
                     + [XlsxColumn(_header(f), _xlsx_kind(f), 18) for f in figs],
                     [(row.street, row.unit.name, *[_cell(f, n) for f, n in zip(figs, row.cells, strict=True)])
                      for row in dash.stations], totals)
    chart = next((c for g in dash.groups for c in g.charts if c.figure.key == name), None)
    if chart is None:
        return None
    figure = chart.figure
    buckets = [(code, label) for code, label, _n in chart.rows]
    units = dash.children or [dash.unit]
    rows = []
    for unit in units:
        reading = dash.readings[(figure.key, dash.period.key, unit.pk)]
        rows.append((unit.name, _cell(figure, _number(reading, unit, dash.period)),
                     *[_cell(figure, _number(reading, unit, dash.period, code)) for code, _l in buckets]))
    kind = _xlsx_kind(figure)
    totals: dict = {0: _("Total")}
    for i, number in enumerate([chart.total] + [n for _c, _l, n in chart.rows], start=1):
        totals[i] = "sum" if figure.kind not in (RATIO, LATEST) else _cell(figure, number)
    if not dash.children:
        totals = {}
    return Table(name, f"{title_base} · {figure.label}",
                 [unit_column, XlsxColumn(_("Total"), kind, 12)] + [XlsxColumn(label, kind, 12) for _c, label in buckets],
                 rows, totals)
