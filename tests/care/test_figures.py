"""Care's figures against a direct count at every unit of the tree: visits (by occasion), due visits, key-recipient
coverage, overdue and escalated tasks (now and as at a past day), money and goods, life events answered in time.

The data is made by the services on a timeline (the default rules, the nightly run, visits, life events, a
closed record, a transfer, a cancelled task); the expected numbers are counted here in Python from the rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.care import services
from apps.care.choices import TaskStatus, VisitMode
from apps.care.models import DueVisit, Occasion, Visit
from apps.core import figures
from apps.registry import services as registry_services
from apps.registry.models import CareEntitlement, Code, Veteran
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran
from tests.registry.test_figures import assert_figure, at, day_of, on_register, unit_on

pytestmark = pytest.mark.django_db
TODAY = date(2026, 5, 15)
PERIODS = [figures.Period.parse("2026-Q2"), figures.Period.parse("2026-Q1"), figures.Period.parse("2026-03"),
           figures.Period.parse("2020-Q1")]


def occasion(code: str) -> Occasion:
    return Occasion.objects.get(code=code)


def visit(actor, person, day, code="contact", **fields):
    with at(day):
        return services.visit_log(actor=actor, veteran=Veteran.objects.get(pk=person.pk), occasion=occasion(code),
                                  date=day, visitors="王专干", **fields)


def event(actor, person, day, code="hospitalised"):
    with at(day):
        found = services.life_event_record(actor=actor, veteran=person, occasion=occasion(code), date=day)
        services.people_recompute(ids=[person.pk], on=day)
    return found


def run(day):
    with at(day, hour=2):
        services.reminders_run(on=day)


@pytest.fixture
def timeline(tree, users):
    actor = users["admin"]
    a1, a2, b1 = tree["village_a1"], tree["village_a2"], tree["village_b1"]
    key = Code.objects.get(kind="care_category", name="在乡复员军人")
    people = {}
    with at(date(2025, 12, 1)):
        for name, unit, birth in (("k1", a1, "19500101"), ("k2", b1, "19520202"), ("k3", a2, "19540303"),
                                  ("n1", a1, "19700101"), ("n2", a2, "19720202"), ("m1", a1, "19740404")):
            people[name] = make_veteran(unit, name=name, id_number=id_number(birth))
        for name in ("k1", "k2", "k3", "m1"):
            registry_services.care_entitlement_save(actor=actor, veteran=people[name], category=key)
        CareEntitlement.objects.filter(veteran=people["m1"]).update(end_date=date(2026, 4, 30))  # key until April
    visit(actor, people["n1"], date(2025, 12, 20), money=Decimal("100"))  # before the periods
    run(date(2026, 1, 5))
    visit(actor, people["k1"], date(2026, 2, 10), mode=VisitMode.PHONE, money=Decimal("200.50"), goods="米、油")
    event(actor, people["n1"], date(2026, 3, 1))  # due 3-04, visited 3-03: on time
    visit(actor, people["n1"], date(2026, 3, 3), code="must_visit", goods="水果")
    late = event(actor, people["n2"], date(2026, 3, 10))  # due 3-13, visited 3-20: late
    visit(actor, people["n2"], date(2026, 3, 20), code="must_visit", task=DueVisit.objects.get(life_event=late))
    change = event(actor, people["n2"], date(2026, 3, 21), code="family_change")  # due 3-24, open on 3-31
    run(date(2026, 3, 28))  # escalates the 3-24 task to the street
    visit(actor, people["n2"], date(2026, 4, 2), code="must_visit", money=Decimal("300"),
          task=DueVisit.objects.get(life_event=change))
    run(date(2026, 4, 10))  # the key recipients' Q1 contacts not made (k2, k3, m1) are escalated
    visit(actor, people["k2"], date(2026, 4, 12), money=Decimal("50"))
    with at(date(2026, 4, 15)):
        registry_services.veteran_close(actor=actor, veteran=people["k3"], status="deceased", on=date(2026, 4, 15))
        registry_services.veteran_transfer(actor=actor, veteran=people["m1"], to_unit=b1, on=date(2026, 4, 15))
        services.people_recompute(ids=[people["k3"].pk, people["m1"].pk], on=date(2026, 4, 15))
    event(actor, people["k1"], date(2026, 5, 11))  # due 5-14: overdue, not answered
    event(actor, people["n1"], date(2026, 5, 14))  # due 5-17: still running
    with at(date(2026, 5, 14)):
        task = DueVisit.objects.get(veteran=people["n1"], status=TaskStatus.OPEN, life_event__isnull=True)
        services.task_cancel(actor=actor, task=task, reason="本人婉拒")
    run(TODAY)
    with at(TODAY):
        yield people


def tasks():
    return list(DueVisit.objects.all())


def open_on(task, day) -> bool:
    if day_of(task.created_at) > day:
        return False
    return task.status == TaskStatus.OPEN or (task.closed_at is not None and day_of(task.closed_at) > day)


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.key)
def test_care_figures_match_a_direct_count(tree, timeline, period):
    inside = [v for v in Visit.objects.select_related("occasion") if period.start <= v.date <= period.end]
    if period.key == "2020-Q1":
        assert inside == [] and not [t for t in tasks() if period.start <= t.due_date <= period.end]
    assert_figure(tree, "care.visits_done", period, [(v.org_unit_id, "", 1, None) for v in inside]
                  + [(v.org_unit_id, v.occasion.code, 1, None) for v in inside])
    assert_figure(tree, "care.money", period, [(v.org_unit_id, "", v.money or 0, None) for v in inside])
    assert_figure(tree, "care.goods", period, [(v.org_unit_id, "", 1, None) for v in inside if v.goods])
    all_tasks = tasks()
    assert_figure(tree, "care.tasks_due", period, [(t.org_unit_id, "", 1, None) for t in all_tasks
                                                   if period.start <= t.due_date <= period.end
                                                   and t.status != TaskStatus.CANCELLED])
    assert_figure(tree, "care.tasks_done", period, [(t.org_unit_id, "", 1, None) for t in all_tasks
                                                    if t.status == TaskStatus.DONE
                                                    and period.start <= t.completed_on <= period.end])
    day = period.as_at()
    assert_figure(tree, "care.overdue", period, [(t.org_unit_id, "", 1, None) for t in all_tasks
                                                 if open_on(t, day) and t.due_date < day])
    assert_figure(tree, "care.escalated", period, [(t.org_unit_id, "", 1, None) for t in all_tasks
                                                   if open_on(t, day) and t.level > 0 and t.escalated_on <= day])
    life = [t for t in all_tasks if t.life_event_id and period.start <= t.due_date <= period.end
            and t.status != TaskStatus.CANCELLED and (t.status == TaskStatus.DONE or t.due_date < TODAY)]
    assert_figure(tree, "care.life_events_on_time", period,
                  [(t.org_unit_id, "", int(t.status == TaskStatus.DONE and t.completed_on <= t.due_date), 1)
                   for t in life], ratio=True)
    keys = []
    for person in Veteran.objects.all():
        held = [e for e in CareEntitlement.objects.filter(veteran=person, category__is_key_recipient=True)
                if (e.start_date is None or e.start_date <= day) and (e.end_date is None or e.end_date >= day)]
        if held and on_register(person, day):
            seen = Visit.objects.filter(veteran=person, date__gte=period.start, date__lte=day).exists()
            keys.append((unit_on(person, day), "", int(seen), 1))
    assert_figure(tree, "care.key_coverage", period, keys, ratio=True)


def test_the_data_reaches_the_rules(tree, timeline):
    """The numbers written out: a figure that ignored cancellations, closing dates, escalation dates, the
    deadline of a life event or the key recipients' dates would differ."""
    def reading(key, period, unit="district"):
        p = figures.Period.parse(period)
        return figures.read([key], [p], [tree[unit].pk])[(key, p.key, tree[unit].pk)]

    assert reading("care.life_events_on_time", "2026-Q1").value == 1  # n1 on time
    assert reading("care.life_events_on_time", "2026-Q1").base == 3  # n2 late twice (3-20, 4-02)
    # Due on 12-31: the yearly contacts of k1, k2, n2, m1 and home visits of k1, k2, m1; k3's were cancelled with
    # the record, n1's contact by the station.
    assert reading("care.tasks_due", "2026-Q4").value == 7
    assert reading("care.life_events_on_time", "2026-Q2").base == 1  # k1's, overdue; n1's 5-17 not yet due
    assert reading("care.overdue", "2026-03", "village_a2").value >= 1  # n2's family change, open on 3-31
    assert reading("care.escalated", "2026-Q1", "street_a").value == 1  # n2's, escalated 3-28
    assert reading("care.money", "2026-Q1").value == 200.5
    assert reading("care.key_coverage", "2026-Q1").value == 1 and reading("care.key_coverage", "2026-Q1").base == 4
    assert reading("care.key_coverage", "2026-Q2").base == 2  # k3 died, m1 no longer key


def test_links_open_for_a_user_in_scope(client, tree, users, timeline):
    period = figures.Period.parse("2026-Q1")
    for user_name, unit_name in (("leader", "district"), ("street_a", "street_a"), ("village_a1", "village_a1")):
        login(client, users[user_name])
        for figure in [f for f in figures.all_figures() if f.app == "care"]:
            for bucket in [""] + [code for code, _label in (figure.buckets() if figure.buckets else [])][:3]:
                url = figure.url(tree[unit_name], period, bucket)
                assert url and client.get(url).status_code == 200, (figure.key, user_name, url)
