"""What the monthly work report says: every registered figure for the unit, compared with the month before and
the same month a year earlier, its breakdowns, and tables by street and by village.

Only the figure store is read (``apps.core.figures.read``): no per-person row is loaded, so the report costs
the same for 1,000 veterans as for 1,000,000 once the figures are counted. The caller has checked that the
unit is one the report may cover (the district or a street).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.core import figures
from apps.core.choices import OrgLevel
from apps.core.figures import AMOUNT, LATEST, RATIO, Figure, Period, Reading
from apps.core.models import OrgUnit
from apps.core.reference import snapshot

from .. import charts

CHILD_LEVEL = {OrgLevel.DISTRICT.value: OrgLevel.STREET.value, OrgLevel.STREET.value: OrgLevel.COMMUNITY.value}


def shown(reading: Reading) -> str:
    """A reading as printed (``figures.format_value``): 1,234 / 1,234.50 (yuan) / 87.5% / 2026-05-31 18:02;
    "—" when there is nothing to show."""
    return reading.text


def change(reading: Reading, against: Reading) -> str:
    """How ``reading`` moved since ``against``: +12（+5.3%）, −3, +2.5个百分点; "—" when it cannot be said."""
    figure = reading.figure
    if figure.kind == LATEST:
        return "—"
    if figure.kind == RATIO:
        now, then = reading.ratio, against.ratio
        if now is None or then is None:
            return "—"
        points = round(100 * (now - then), 1)
        return pgettext("monthly report", "%(points)s pp") % {"points": f"{points:+.1f}"}
    diff = reading.value - against.value
    number = f"{diff:+,.2f}" if figure.kind == AMOUNT or isinstance(diff, float) else f"{diff:+,}"
    if not against.value:
        return number
    return f"{number}（{100 * diff / against.value:+.1f}%）"


@dataclass
class Line:
    """One figure of the unit: this month, last month, the same month last year."""

    key: str
    label: str
    unit: str
    current: str
    previous: str
    since_previous: str
    last_year: str
    since_last_year: str
    description: str = ""


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    total: list[str] | None = None
    divisions: list[int] = field(default_factory=list)  # row indexes that start a new street (village tables)
    label_columns: int = 1  # the leading columns that name the row (the rest are numbers)


@dataclass
class Section:
    title: str
    lines: list[Line] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    breakdowns: list[Table] = field(default_factory=list)


@dataclass
class MonthlyContent:
    unit: OrgUnit
    period: Period
    title: str
    sections: list[Section]
    child_tables: list[Table]
    village_tables: list[Table]
    figures_as_at: datetime | None
    readings: dict
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def charts(self) -> list[str]:
        return [chart for section in self.sections for chart in section.charts]


def _groups(all_figures: list[Figure]) -> list[tuple[str, list[Figure]]]:
    """Figures by ``group`` in the registry's order (a group's place is that of its first figure)."""
    grouped: dict[str, list[Figure]] = {}
    for figure in all_figures:
        grouped.setdefault(str(figure.group) or pgettext("monthly report", "Other figures"), []).append(figure)
    return list(grouped.items())


def _unit_table(title: str, group: list[Figure], level: str, units: list[OrgUnit], period: Period,
                readings: dict, total_unit: OrgUnit, *, parent_column: dict[int, str] | None = None) -> Table | None:
    """Rows of units × the group's figures that split by their level (breakdown totals left to their section)."""
    columns = [f for f in group if f.splits_by(level) and f.buckets is None]
    if not columns or not units:
        return None
    headers = ([_("Street/town")] if parent_column is not None else []) + [_("Unit")]
    headers += [f"{f.label}（{f.unit}）" if f.unit and f.kind != LATEST else str(f.label) for f in columns]
    table = Table(title=title, headers=headers, label_columns=2 if parent_column is not None else 1)
    last_parent = None
    for unit in units:
        row = [shown(readings[(f.key, period.key, unit.pk)]) for f in columns]
        if parent_column is not None:
            parent = parent_column.get(unit.pk, "")
            if parent != last_parent:
                table.divisions.append(len(table.rows))
            row = [parent if parent != last_parent else "", unit.name, *row]
            last_parent = parent
        else:
            row = [unit.name, *row]
        table.rows.append(row)
    total = [shown(readings[(f.key, period.key, total_unit.pk)]) for f in columns]
    table.total = ([_("Total")] + ([""] if parent_column is not None else []) + total)
    return table


def monthly_content(*, unit: OrgUnit, period: Period, with_charts: bool = True) -> MonthlyContent:
    """Assemble the report of ``unit`` (the district or a street) for the month ``period``."""
    tree = snapshot()
    registered = figures.all_figures()
    previous, last_year = period.previous(), period.same_last_year()
    child_level = CHILD_LEVEL.get(unit.level, "")
    below = [u for u in tree.subtree(unit) if u.pk != unit.pk and u.is_active]
    children = [u for u in below if u.level == child_level]
    villages = [u for u in below if u.level == OrgLevel.COMMUNITY.value] if unit.level == OrgLevel.DISTRICT.value else []
    readings = figures.read(registered, [period, previous, last_year], [unit.pk] + [u.pk for u in below])
    street_of = {v.pk: next((c.name for c in children if v.path.startswith(c.path)), "") for v in villages}

    sections: list[Section] = []
    child_tables: list[Table] = []
    village_tables: list[Table] = []
    chart_no = 0
    for group_title, group in _groups(registered):
        section = Section(title=group_title)
        for figure in group:
            now = readings[(figure.key, period.key, unit.pk)]
            before = readings[(figure.key, previous.key, unit.pk)]
            year_ago = readings[(figure.key, last_year.key, unit.pk)]
            section.lines.append(Line(
                key=figure.key, label=str(figure.label), unit=str(figure.unit or ""), current=shown(now),
                previous=shown(before), since_previous=change(now, before), last_year=shown(year_ago),
                since_last_year=change(now, year_ago), description=str(figure.description or "")))
            if figure.buckets is not None:
                buckets = figure.buckets()
                breakdown = Table(title=str(figure.label), headers=[
                    pgettext("monthly report", "Item"), _("This month"), pgettext("monthly report", "Last month"), pgettext("monthly report", "Same month last year")])
                values = []
                for code, label in buckets:
                    cells = [figures.format_value(figure, r.shown_of(code))
                             for r in (now, before, year_ago)]
                    breakdown.rows.append([str(label), *cells])
                    values.append((str(label), now.bucket(code), year_ago.bucket(code)))
                breakdown.total = [_("Total"), shown(now), shown(before), shown(year_ago)]
                section.breakdowns.append(breakdown)
                if with_charts and values and figure.kind in (figures.COUNT, AMOUNT):
                    chart_no += 1
                    section.charts.append(charts.bar_chart(
                        labels=[v[0] for v in values], prefix=f"c{chart_no}", title=str(figure.label),
                        unit=str(figure.unit or ""), series=[(period.label, [v[1][0] for v in values]),
                                                             (last_year.label, [v[2][0] for v in values])]))
        plotted = next((f for f in group if f.buckets is None and f.kind in (figures.COUNT, AMOUNT, RATIO)
                        and f.splits_by(child_level)), None)
        if with_charts and plotted is not None and children:
            chart_no += 1
            values = [readings[(plotted.key, period.key, c.pk)] for c in children]
            ratio = plotted.kind == RATIO
            section.charts.append(charts.bar_chart(
                labels=[c.name for c in children], prefix=f"c{chart_no}",
                title=pgettext("monthly report", "%(figure)s by unit") % {"figure": plotted.label}, unit="" if ratio else str(plotted.unit or ""),
                series=[(period.label, [(r.shown or 0) if ratio else r.value for r in values])], percent=ratio))
        sections.append(section)
        table = _unit_table(group_title, group, child_level, children, period, readings, unit)
        if table is not None:
            child_tables.append(table)
        if villages:
            table = _unit_table(group_title, group, OrgLevel.COMMUNITY.value, villages, period, readings, unit,
                                parent_column=street_of)
            if table is not None:
                village_tables.append(table)

    times = [r.computed_at for r in readings.values() if r.computed_at is not None]
    title = _("Monthly work report")
    return MonthlyContent(unit=unit, period=period, title=title, sections=sections, child_tables=child_tables,
                          village_tables=village_tables, figures_as_at=min(times) if times else None,
                          readings=readings)


