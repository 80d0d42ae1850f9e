"""Report-form tests' helpers: the planned figures the shipped forms bind to (registered here, computed by plain
ORM counts, only where the real figure is not registered yet), generated data on the test tree, and the shipped
forms loaded as migration 0003 loads them (a transactional test's flush empties the table)."""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db.models import Q

from apps.core import figures
from apps.core.figures import registry as figure_registry
from apps.core.figures.registry import AMOUNT, RATIO, STOCK, Figure

SHIPPED = ["veterans-basic", "care-visits", "honors-plaques"]


def _codes(kind):
    from apps.registry.models import Code

    return lambda: list(Code.objects.filter(kind=kind).order_by("sort_order").values_list("code", "name"))


def _occasions():
    from apps.care.models import Occasion

    return list(Occasion.objects.order_by("sort_order").values_list("code", "name"))


def _active(period):
    from apps.registry.models import Veteran

    return Veteran.objects.filter(status="active", created_at__date__lte=period.end)


def _veterans(period):
    for unit_id, n in Counter(_active(period).values_list("org_unit_id", flat=True)).items():
        yield unit_id, "", n, None


def _by_category(period):
    from apps.registry.models import Veteran

    rows = Veteran.categories.through.objects.filter(veteran__in=_active(period)).values_list(
        "veteran__org_unit_id", "code__code")
    yield from ((u, c, n, None) for (u, c), n in Counter(rows).items())
    yield from _veterans(period)


def _by_care(period):
    from apps.registry.models import CareEntitlement

    rows = list(CareEntitlement.objects.filter(veteran__in=_active(period)).values_list(
        "veteran__org_unit_id", "category__code", "veteran_id"))
    yield from ((u, c, n, None) for (u, c), n in Counter((u, c) for u, c, _v in rows).items())
    people = defaultdict(set)
    for u, _c, v in rows:
        people[u].add(v)
    yield from ((u, "", len(vs), None) for u, vs in people.items())


def _visits(period):
    from apps.care.models import Visit

    return Visit.objects.filter(date__gte=period.start, date__lte=period.end)


def _visits_done(period):
    rows = list(_visits(period).values_list("org_unit_id", "occasion__code"))
    yield from ((u, c, n, None) for (u, c), n in Counter(rows).items())
    yield from ((u, "", n, None) for u, n in Counter(u for u, _c in rows).items())


def _key_coverage(period):
    from apps.registry.models import CareEntitlement

    keys = set(CareEntitlement.objects.filter(veteran__in=_active(period), category__is_key_recipient=True)
               .values_list("veteran_id", "veteran__org_unit_id"))
    visited = set(_visits(period).values_list("veteran_id", flat=True))
    base, value = Counter(u for _v, u in keys), Counter(u for v, u in keys if v in visited)
    yield from ((u, "", value.get(u, 0), n) for u, n in base.items())


def _money(period):
    sums = defaultdict(Decimal)
    for u, money in _visits(period).filter(money__isnull=False).values_list("org_unit_id", "money"):
        sums[u] += money
    yield from ((u, "", m, None) for u, m in sums.items())


def _goods(period):
    yield from ((u, "", n, None) for u, n in Counter(
        _visits(period).exclude(goods="").values_list("org_unit_id", flat=True)).items())


def _plaques(period):
    from apps.honors.models import PlaqueRecord

    yield from ((u, "", n, None) for u, n in Counter(PlaqueRecord.objects.filter(
        date__lte=period.end, action="hang").values_list("org_unit_id", flat=True)).items())


def _plaque_coverage(period):
    from apps.honors.models import PlaqueRecord

    hung = set(PlaqueRecord.objects.filter(date__lte=period.end).values_list("veteran_id", flat=True))
    families = Counter()
    covered = Counter()
    for v, u in _active(period).values_list("id", "org_unit_id"):
        families[u] += 1
        covered[u] += v in hung
    yield from ((u, "", covered[u], n) for u, n in families.items())


def _notices_on_time(period):
    from apps.honors.models import MeritNotice

    base, value = Counter(), Counter()
    for u, delivered, notice_date in MeritNotice.objects.filter(
            notice_date__gte=period.start, notice_date__lte=period.end).values_list(
            "org_unit_id", "delivered_on", "notice_date"):
        base[u] += 1
        value[u] += bool(delivered and delivered <= notice_date + timedelta(days=7))
    yield from ((u, "", value[u], n) for u, n in base.items())


def stand_in_figures() -> list[Figure]:
    from apps.registry.choices import CodeKind

    f = Figure
    return [
        f("registry.veterans", "在册人数", "", _veterans, "registry", period_kind=STOCK, unit="人"),
        f("registry.by_category", "按信息采集类别", "", _by_category, "registry", period_kind=STOCK,
          buckets=_codes(CodeKind.CATEGORY)),
        f("registry.by_care_category", "按优抚类别", "", _by_care, "registry", period_kind=STOCK,
          buckets=_codes(CodeKind.CARE_CATEGORY)),
        f("care.visits_done", "走访次数", "", _visits_done, "care", buckets=_occasions),
        f("care.key_coverage", "重点对象覆盖率", "", _key_coverage, "care", kind=RATIO),
        f("care.money", "慰问金", "", _money, "care", kind=AMOUNT),
        f("care.goods", "慰问品", "", _goods, "care"),
        f("honors.plaques_hung", "光荣牌", "", _plaques, "honors", period_kind=STOCK),
        f("honors.plaque_coverage", "光荣牌悬挂率", "", _plaque_coverage, "honors", kind=RATIO, period_kind=STOCK),
        f("honors.notices_delivered_on_time", "喜报按时送达率", "", _notices_on_time, "honors", kind=RATIO),
        # A figure kept per street and district only (like liaison.items_on_time), for the split refusals.
        f("test.street_only", "仅到街道", "", lambda period: iter(()), "liaison", levels=("district", "street")),
    ]


@pytest.fixture
def report_figures():
    """The figures the shipped forms bind to: the real ones when registered, else these stand-ins."""
    added = []
    for figure in stand_in_figures():
        if figures.get(figure.key) is None:
            figure_registry.register(figure)
            added.append(figure.key)
    yield
    for key in added:
        figure_registry._figures.pop(key, None)


@pytest.fixture
def shipped_forms(db, roles):
    from apps.reports.models import ReportForm

    if ReportForm.objects.filter(code__in=SHIPPED).count() < len(SHIPPED):
        importlib.import_module("apps.reports.migrations.0003_ship_forms").load(django_apps, None)
    return {f.code: f for f in ReportForm.objects.filter(code__in=SHIPPED)}


def make_data(tree, *, day) -> dict:
    """Veterans in every village (and one on a street itself), categories, care entitlements, visits of the day's
    quarter with money and goods; one moved-out person who must not count."""
    from apps.care.models import Occasion, Visit
    from apps.registry.models import CareEntitlement, Code
    from tests.registry.factories import make_veteran

    categories = list(Code.objects.filter(kind="category").order_by("sort_order"))
    cares = list(Code.objects.filter(kind="care_category").order_by("sort_order"))
    occasions = {o.code: o for o in Occasion.objects.all()}
    people = []
    plan = [("village_a1", 5), ("village_a2", 3), ("village_b1", 4), ("street_b", 1)]
    n = 0
    for unit_name, count in plan:
        for _i in range(count):
            n += 1
            category = categories[n % len(categories)]
            veteran = make_veteran(tree[unit_name], name=f"测试{n}", primary_category=category)
            veteran.categories.add(category)
            if n % 2:
                CareEntitlement.objects.create(veteran=veteran, category=cares[n % len(cares)])
            if n % 3 == 0:
                CareEntitlement.objects.create(veteran=veteran, category=cares[(n + 4) % len(cares)])
            people.append(veteran)
    for i, veteran in enumerate(people[:9]):
        occasion = occasions[["spring_festival", "contact", "hospitalised", "army_day"][i % 4]]
        Visit.objects.create(veteran=veteran, org_unit=veteran.org_unit, occasion=occasion, date=day,
                             visitors="站长", money=Decimal("500.00") if i % 2 else None, goods="米面油" if i % 3 else "")
    gone = make_veteran(tree["village_a1"], name="已迁出", primary_category=categories[0])
    type(gone).objects.filter(pk=gone.pk).update(status="moved_out")
    return {"people": people}


def direct_count(tree_unit, *, category: str = "", care: str = "") -> int:
    """People on the register under ``tree_unit``, by a plain ORM query (the independent count)."""
    from apps.registry.models import Veteran

    people = Veteran.objects.filter(status="active", org_unit__path__startswith=tree_unit.path)
    if category:
        people = people.filter(categories__kind="category", categories__code=category)
    if care:
        people = people.filter(care__category__code=care)
    return people.filter(~Q(pk=None)).distinct().count()
