"""Report-form tests' helpers: a test-only figure (the shipped forms bind to the apps' real figures), generated
data on the test tree, a direct ORM count by the registry figures' rules, and the shipped forms loaded as migration
0003 loads them (a transactional test's flush empties the table)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db.models import Q

from apps.core import figures
from apps.core.figures import registry as figure_registry
from apps.core.figures.registry import Figure

SHIPPED = ["veterans-basic", "care-visits", "honors-plaques"]
SHIPPED_KEYS = ["registry.veterans", "registry.by_category", "registry.by_care_category", "care.visits_done",
                "care.key_coverage", "care.money", "care.goods", "honors.plaques_hung", "honors.plaque_coverage",
                "honors.notices_delivered_on_time"]


def test_figures() -> list[Figure]:
    """Figures no app registers, for the refusals: one kept per street and district only (like
    liaison.items_on_time, but with a key the tests own)."""
    return [Figure("test.street_only", "仅到街道", "", lambda period: iter(()), "liaison", levels=("district", "street"))]


@pytest.fixture
def report_figures():
    """The shipped forms bind to the apps' real figures (registered by core discovery); this adds the test-only
    figures, and checks that every figure a shipped form binds to is registered."""
    missing = [key for key in SHIPPED_KEYS if figures.get(key) is None]
    assert not missing, f"figures the shipped forms bind to are not registered: {missing}"
    added = []
    for figure in test_figures():
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
    """Veterans in every village (and one on a street itself), each with a main collection category and another
    one (the figures count the main one only), care entitlements (some held, one ended before ``day``: not held),
    visits of ``day`` (occasions a visit can have: not life events) with money and goods; one moved-out person who
    must not count."""
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
            veteran.categories.add(category, categories[(n + 5) % len(categories)])
            if n % 2:
                CareEntitlement.objects.create(veteran=veteran, category=cares[n % len(cares)],
                                               start_date=day - timedelta(days=400))
            if n % 3 == 0:
                CareEntitlement.objects.create(veteran=veteran, category=cares[(n + 4) % len(cares)])
            if n % 4 == 0:  # ended before the day: not held then
                CareEntitlement.objects.create(veteran=veteran, category=cares[(n + 7) % len(cares)],
                                               start_date=day - timedelta(days=800), end_date=day - timedelta(days=1))
            people.append(veteran)
    for i, veteran in enumerate(people[:9]):
        occasion = occasions[["spring_festival", "contact", "must_visit", "army_day"][i % 4]]
        Visit.objects.create(veteran=veteran, org_unit=veteran.org_unit, occasion=occasion, date=day,
                             visitors="站长", money=Decimal("500.00") if i % 2 else None, goods="米面油" if i % 3 else "")
    gone = make_veteran(tree["village_a1"], name="已迁出", primary_category=categories[0])
    CareEntitlement.objects.create(veteran=gone, category=cares[0])
    type(gone).objects.filter(pk=gone.pk).update(status="moved_out")
    return {"people": people}


def direct_count(tree_unit, day, *, category: str = "", care: str = "") -> int:
    """People on the register under ``tree_unit`` on ``day`` by a plain ORM query and the registry figures' rules
    (apps/registry/figures.py): ``category`` counts by the MAIN collection category; ``care`` by the care
    categories held on ``day`` (from/until around it); with neither, everyone on the register."""
    from apps.registry.models import CareEntitlement, Veteran

    people = Veteran.objects.filter(status="active", org_unit__path__startswith=tree_unit.path)
    if category:
        people = people.filter(primary_category__kind="category", primary_category__code=category)
    if care:
        held = CareEntitlement.objects.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=day), Q(end_date__isnull=True) | Q(end_date__gte=day),
            category__code=care)
        people = people.filter(pk__in=held.values("veteran_id"))
    return people.count()
