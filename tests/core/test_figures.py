"""The figure kit: periods, summing up the tree, keeping and freshness, scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from apps.core import figures
from apps.core.figures import registry as figure_registry
from apps.core.figures.store import clear_process_cache
from apps.core.models import FigureSnapshot, FigureValue

pytestmark = pytest.mark.django_db


def test_periods_parse_and_step():
    q = figures.Period.parse("2026-Q4")
    assert (q.start, q.end, q.kind, q.key) == (date(2026, 10, 1), date(2026, 12, 31), "quarter", "2026-Q4")
    assert q.previous().key == "2026-Q3" and q.same_last_year().key == "2025-Q4" and q.next().key == "2027-Q1"
    assert figures.Period.parse("2026-2").key == "2026-02"
    assert figures.Period.parse("2026-02").end == date(2026, 2, 28)
    assert figures.Period.parse("2024-02").end == date(2024, 2, 29)
    assert figures.Period.parse(" 2026 ").kind == "year"
    assert figures.Period.parse("2026-01").previous().key == "2025-12"
    for bad in ("", "2026-13", "26-Q1", "2026-Q5", "abc"):
        with pytest.raises(ValidationError):
            figures.Period.parse(bad)
    future = figures.Period.containing(timezone.localdate() + timedelta(days=400), "month")
    with pytest.raises(ValidationError) as raised:
        future.check_not_future()
    assert future.key in str(raised.value)


@pytest.fixture
def counted(tree):
    """A test figure: 1 per village A1, 2 per A2, 4 per B1 (bucket x: half of each), ratio base 10 each."""
    calls = []

    def compute(period):
        calls.append(period.key)
        return [(tree["village_a1"].pk, "", 1, 10), (tree["village_a1"].pk, "x", 0.5, 5),
                (tree["village_a2"].pk, "", 2, 10), (tree["village_b1"].pk, "", 4, 10), (tree["village_b1"].pk, "x", 2, 5)]

    figure = figures.Figure(key="test.ratio", label="测试", description="", compute=compute, app="core", kind=figures.RATIO)
    figure_registry._figures[figure.key] = figure
    clear_process_cache()
    yield figure, calls
    figure_registry._figures.pop(figure.key, None)


def test_rollup_sums_up_the_tree_and_reads_zero_where_nothing(counted, tree, make_user):
    figure, calls = counted
    period = figures.Period.current("quarter")
    units = [u.pk for u in tree.values()]
    readings = figures.read([figure], [period], units)
    assert calls == [period.key]
    by = {name: readings[(figure.key, period.key, unit.pk)] for name, unit in tree.items()}
    assert (by["district"].value, by["district"].base) == (7, 30)
    assert (by["street_a"].value, by["street_a"].base) == (3, 20)
    assert by["street_a"].bucket("x") == (0.5, 5) and by["district"].bucket("x") == (2.5, 10)
    assert by["street_b"].ratio == pytest.approx(0.4) and by["street_b"].shown == 40.0
    # a second read within the maximum age counts nothing again
    figures.read([figure], [period], units)
    assert calls == [period.key]
    assert FigureSnapshot.objects.filter(figure=figure.key).count() == 1
    assert FigureValue.objects.filter(snapshot__figure=figure.key).count() == 6


def test_a_snapshot_older_than_the_maximum_age_is_counted_again(counted, tree, settings):
    figure, calls = counted
    period = figures.Period.current("month")
    figures.read([figure], [period], [tree["district"].pk])
    FigureSnapshot.objects.filter(figure=figure.key).update(
        computed_at=timezone.now() - timedelta(minutes=settings.FIGURES_MAX_AGE_MINUTES + 1))
    reading = figures.read([figure], [period], [tree["district"].pk])[(figure.key, period.key, tree["district"].pk)]
    assert calls == [period.key, period.key]
    assert timezone.now() - reading.computed_at < timedelta(minutes=1)
    assert FigureValue.objects.filter(snapshot__figure=figure.key).count() == 6  # replaced, not added to


def test_levels_drop_rows_below_what_the_figure_splits_by(tree):
    figure = figures.Figure(key="test.street_only", label="x", description="", app="core",
                            compute=lambda p: [(tree["street_a"].pk, "", 3, None)], levels=("district", "street"))
    figure_registry._figures[figure.key] = figure
    try:
        period = figures.Period.current("year")
        readings = figures.read([figure], [period], [tree["district"].pk, tree["street_a"].pk])
        assert readings[(figure.key, period.key, tree["district"].pk)].value == 3
        assert figure.splits_by("street") and not figure.splits_by("community")
    finally:
        figure_registry._figures.pop(figure.key, None)


def test_hot_refresh_counts_each_hot_period_once(counted, tree):
    figure, calls = counted
    today = timezone.localdate()
    result = figures.refresh_hot(today=today)
    assert set(calls) == {p.key for p in figures.store.hot_periods(today)}
    assert result["counted"] >= len(set(calls))
    before = len(calls)
    figures.refresh_hot(today=today)
    assert len(calls) == before  # fresh snapshots are left alone


def test_scoped_unit(users, tree):
    assert figures.scoped_unit(users["leader"]) == tree["district"]
    assert figures.scoped_unit(users["street_a"]) == tree["street_a"]
    assert figures.scoped_unit(users["street_a"], tree["village_a2"].pk) == tree["village_a2"]
    for pk in (tree["street_b"].pk, tree["village_b1"].pk, tree["district"].pk, "x", 999999):
        with pytest.raises(Http404):
            figures.scoped_unit(users["street_a"], pk)
    with pytest.raises(Http404):
        figures.scoped_unit(users["enterprise"])


def test_registering_one_key_twice_from_two_apps_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    first = figures.Figure(key="test.twice", label="x", description="", app="a", compute=lambda p: [])
    figures.register(first)
    try:
        figures.register(first)  # the same figure again: fine
        with pytest.raises(ImproperlyConfigured):
            figures.register(figures.Figure(key="test.twice", label="x", description="", app="b", compute=lambda p: []))
    finally:
        figure_registry._figures.pop("test.twice", None)


def test_a_standing_count_is_taken_once_per_day_and_a_closed_period_keeps_longer(tree, settings, monkeypatch):
    """The running month, quarter and year share today's standing count; a period that has ended is recounted
    only after FIGURES_CLOSED_MAX_AGE_MINUTES."""
    days = []

    def compute(period):
        days.append(period.as_at())
        return [(tree["village_a1"].pk, "", 1, None)]

    figure = figures.Figure(key="test.stock", label="x", description="", app="core", compute=compute,
                            period_kind=figures.STOCK)
    monkeypatch.setattr(figure_registry, "_figures", {figure.key: figure})  # this figure alone
    today = timezone.localdate()
    hot = figures.store.hot_periods(today)
    result = figures.refresh_hot(today=today)
    assert result["counted"] == len(hot)
    assert sorted(days) == sorted({p.as_at(today) for p in hot})  # one computation per distinct day
    assert days.count(today) == 1
    closed = figures.Period.containing(today, "month").previous()
    old = timezone.now() - timedelta(minutes=settings.FIGURES_MAX_AGE_MINUTES + 5)
    FigureSnapshot.objects.filter(figure=figure.key).update(computed_at=old)
    before = len(days)
    figures.read([figure], [closed], [tree["district"].pk])
    assert len(days) == before  # closed: still within FIGURES_CLOSED_MAX_AGE_MINUTES
    figures.read([figure], [figures.Period.containing(today, "month")], [tree["district"].pk])
    assert len(days) == before + 1  # running: recounted
