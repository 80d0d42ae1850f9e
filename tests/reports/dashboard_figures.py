"""Figures for the dashboard's tests, counted from the real tables (veterans and visits) and linking to the real
lists, so that the dashboard can be tried before the registry's and care's own figures are merged. The keys are
the planned ones of the layout (main and station columns), prefixed with ``test.`` where the layout does not
need a specific key. ``installed(...)`` swaps the registry's figures for these for the length of a test."""

from __future__ import annotations

import contextlib

from django.db.models import Count, Max, Q, Sum
from django.urls import reverse

from apps.core import figures
from apps.core.figures import registry as figure_registry
from apps.core.figures.store import clear_process_cache


def _veterans(period):
    from apps.registry.models import Veteran

    return Veteran.objects.filter(status="active", created_at__lt=period.bounds()[1])


def veterans(period):
    for unit_id, n in _veterans(period).values_list("org_unit_id").annotate(n=Count("id")):
        yield unit_id, "", n, None


def by_sex(period):
    for unit_id, sex, n in _veterans(period).values_list("org_unit_id", "sex").annotate(n=Count("id")):
        yield unit_id, sex, n, None
    yield from veterans(period)


def completeness(period):
    rows = _veterans(period).values_list("org_unit_id").annotate(
        n=Count("id"), done=Count("id", filter=~Q(phone="") & ~Q(address="")))
    for unit_id, n, done in rows:
        yield unit_id, "", done, n


def last_update(period):
    for unit_id, at in _veterans(period).values_list("org_unit_id").annotate(at=Max("updated_at")):
        yield unit_id, "", int(at.timestamp()), None


def _visits(period):
    from apps.care.models import Visit

    return Visit.objects.filter(date__range=(period.start, period.end))


def visits(period):
    for unit_id, code, n in _visits(period).values_list("org_unit_id", "occasion__code").annotate(n=Count("id")):
        yield unit_id, code, n, None
    for unit_id, n in _visits(period).values_list("org_unit_id").annotate(n=Count("id")):
        yield unit_id, "", n, None


def money(period):
    for unit_id, total in _visits(period).values_list("org_unit_id").annotate(total=Sum("money")):
        yield unit_id, "", total or 0, None


def occasions():
    from apps.care.models import Occasion

    return list(Occasion.objects.order_by("sort_order", "code").values_list("code", "name"))


def veteran_list(unit, period, bucket):
    url = reverse("registry:veteran_list") + f"?unit={unit.pk}"
    return url + (f"&sex={bucket}" if bucket else "")


def demo_figures() -> list[figures.Figure]:
    people, care = "人员", "走访慰问"
    return [
        figures.Figure(key="registry.veterans", label="在册人数", description="在册退役军人和其他优抚对象",
                       compute=veterans, app="registry", group=people, period_kind=figures.STOCK, unit="人",
                       link=veteran_list, order=1),
        figures.Figure(key="test.by_sex", label="按性别", description="在册人数按性别", compute=by_sex,
                       app="registry", group=people, period_kind=figures.STOCK, unit="人",
                       buckets=lambda: [("M", "男"), ("F", "女")], link=veteran_list, order=2),
        figures.Figure(key="registry.completeness", label="档案完整率", description="必填项齐全的档案占比",
                       compute=completeness, app="registry", group=people, kind=figures.RATIO,
                       period_kind=figures.STOCK, order=3),
        figures.Figure(key="registry.last_update", label="最近更新", description="最近一次档案修改",
                       compute=last_update, app="registry", group=people, kind=figures.LATEST,
                       period_kind=figures.STOCK, order=4),
        figures.Figure(key="care.visits_done", label="走访次数", description="期内登记的走访", compute=visits,
                       app="care", group=care, unit="次", buckets=occasions, order=5),
        figures.Figure(key="care.money", label="慰问金", description="期内发放的慰问金", compute=money, app="care",
                       group=care, kind=figures.AMOUNT, unit="元", order=6),
    ]


@contextlib.contextmanager
def installed(found: list[figures.Figure]):
    """The registry holds exactly ``found`` inside the block (the real figures come back after it)."""
    kept = dict(figure_registry._figures)
    figure_registry._figures.clear()
    for figure in found:
        figure_registry._figures[figure.key] = figure
    clear_process_cache()
    try:
        yield found
    finally:
        figure_registry._figures.clear()
        figure_registry._figures.update(kept)
        clear_process_cache()
