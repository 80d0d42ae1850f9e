"""Figures registered for the monthly report's tests (the real ones arrive with the figures part of issue 12):
one of each kind, a breakdown, and one kept per street only. Values depend on the month, so this month, last
month and the same month last year differ."""

from __future__ import annotations

import pytest

from apps.core import figures
from apps.core.figures import registry as figure_registry
from apps.core.figures.store import clear_process_cache

GROUP_A, GROUP_B = "在册与变动", "走访慰问"


def _make(tree) -> list[figures.Figure]:
    a1, a2, b1 = tree["village_a1"].pk, tree["village_a2"].pk, tree["village_b1"].pk

    def veterans(period):
        m = period.start.month + 12 * (period.start.year - 2000)
        return [(a1, "", 1000 + m, None), (a2, "", 500 + m, None), (b1, "", 300 + 2 * m, None)]

    def by_sex(period):
        m = period.start.month
        return [(a1, "", 10 + m, None), (a1, "M", 8 + m, None), (a1, "F", 2, None),
                (b1, "", 5, None), (b1, "M", 4, None), (b1, "F", 1, None)]

    def money(period):
        if period.start.year < 2010:
            return []  # nothing given: the report prints zero
        return [(a1, "", 1234.5 * period.start.month, None), (b1, "", 200, None)]

    def coverage(period):
        return [(a1, "", 3, 4), (a2, "", period.start.month % 3, 5), (b1, "", 0, 0)]

    def latest(period):
        return [(a1, "", 1780000000, None), (b1, "", 1780003600, None)]

    def liaison(period):
        return [(tree["street_a"].pk, "", 7, 8), (tree["street_b"].pk, "", 1, 2)]

    return [
        figures.Figure(key="test.veterans", label="在册人数", description="在册退役军人", compute=veterans, app="registry",
                       group=GROUP_A, period_kind=figures.STOCK, unit="人", order=1),
        figures.Figure(key="test.by_sex", label="按性别", description="", compute=by_sex, app="registry", group=GROUP_A,
                       unit="人", order=2, buckets=lambda: [("M", "男"), ("F", "女")]),
        figures.Figure(key="test.last_update", label="最近更新", description="", compute=latest, app="registry",
                       group=GROUP_A, kind=figures.LATEST, order=3),
        figures.Figure(key="test.money", label="慰问金", description="", compute=money, app="care", group=GROUP_B,
                       kind=figures.AMOUNT, unit="元", order=4),
        figures.Figure(key="test.coverage", label="重点对象走访覆盖率", description="", compute=coverage, app="care",
                       group=GROUP_B, kind=figures.RATIO, order=5),
        figures.Figure(key="test.liaison", label="驻街事项按时办结率", description="", compute=liaison, app="liaison",
                       group=GROUP_B, kind=figures.RATIO, order=6, levels=("district", "street")),
    ]


@pytest.fixture
def test_figures(tree):
    """Only these figures are registered while the test runs (the real ones are put back after)."""
    kept = dict(figure_registry._figures)
    figure_registry._figures.clear()
    made = _make(tree)
    for figure in made:
        figures.register(figure)
    clear_process_cache()
    yield made
    figure_registry._figures.clear()
    figure_registry._figures.update(kept)
    clear_process_cache()
