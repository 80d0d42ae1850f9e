"""The rule engine: each rule kind, lunar festivals across years, idempotency, what a visit closes."""

from __future__ import annotations

from datetime import date

import pytest

from apps.care import engine, services
from apps.care.choices import RuleKind, TaskStatus, VisitMode
from apps.care.models import DueVisit, Occasion, VisitRule
from apps.registry import services as registry_services
from apps.registry.models import Code
from tests.registry.factories import id_number, make_veteran

pytestmark = pytest.mark.django_db


def occasion(code: str) -> Occasion:
    return Occasion.objects.get(code=code)


def rule(name: str, kind: str, occasion_code: str, m2m=None, **fields) -> VisitRule:
    """A rule saved through the service (validated); the seeded default rules are switched off so that
    only this one acts."""
    VisitRule.objects.exclude(name=name).update(is_active=False)
    return services.rule_save(actor=None, rule=VisitRule(name=name, kind=kind, occasion=occasion(occasion_code),
                                                         **fields), m2m=m2m)


def key_recipient(veteran):
    registry_services.care_entitlement_save(actor=None, veteran=veteran,
                                            category=Code.objects.get(kind="care_category", name="在乡复员军人"))
    return veteran


def tasks(veteran, rule_obj=None):
    qs = DueVisit.objects.filter(veteran=veteran)
    if rule_obj is not None:
        qs = qs.filter(rule=rule_obj)
    return list(qs.order_by("due_date"))


# --- interval rules --------------------------------------------------------------------------------


def test_quarterly_contact_for_key_recipients_only(tree):
    quarterly = rule("季度联系", RuleKind.INTERVAL, "contact", interval_months=3, key_recipients_only=True)
    key = key_recipient(make_veteran(tree["village_a1"], name="重点"))
    other = make_veteran(tree["village_a1"], name="普通")
    assert engine.generate(quarterly, date(2027, 5, 20)) == 1
    [task] = tasks(key)
    assert (task.period_key, task.opens_on, task.due_date) == ("I2027-04", date(2027, 4, 1), date(2027, 6, 30))
    assert task.org_unit == tree["village_a1"] and task.occasion.code == "contact"
    assert tasks(other) == []


def test_running_twice_creates_nothing_new(tree):
    yearly = rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    for n in range(3):
        make_veteran(tree["village_a1"], name=f"老兵{n}")
    assert engine.generate(yearly, date(2027, 3, 1)) == 3
    assert engine.generate(yearly, date(2027, 3, 1)) == 0
    assert engine.generate(yearly, date(2027, 11, 30)) == 0  # same year, same period
    assert engine.generate(yearly, date(2028, 1, 1)) == 3  # a new period
    assert DueVisit.objects.count() == 6


def test_a_visit_in_the_period_means_no_task(tree, users):
    yearly = rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    visited = make_veteran(tree["village_a1"], name="已访")
    services.visit_log(actor=users["village_a1"], veteran=visited, occasion=occasion("contact"), date=date(2026, 2, 1),
                       visitors="王专干", mode=VisitMode.PHONE)
    other = make_veteran(tree["village_a1"], name="节日访")  # a visit of another occasion is not the contact
    services.visit_log(actor=users["village_a1"], veteran=other, occasion=occasion("other"), date=date(2026, 2, 1),
                       visitors="王专干", mode=VisitMode.PHONE)
    assert engine.generate(yearly, date(2026, 3, 1)) == 1
    assert tasks(visited) == [] and len(tasks(other)) == 1
    assert engine.generate(yearly, date(2027, 3, 1)) == 2  # last year's call does not count this year


def test_home_visit_rule_is_not_closed_by_a_phone_call(tree, users):
    home = rule("每年上门", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True, home_visit_required=True)
    person = make_veteran(tree["village_a1"])
    today = date.today()
    engine.generate(home, today)
    services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("contact"), date=today,
                       visitors="王专干", mode=VisitMode.PHONE)
    assert tasks(person)[0].status == TaskStatus.OPEN
    visit = services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("contact"), date=today,
                               visitors="王专干", mode=VisitMode.HOME)
    task = tasks(person)[0]
    assert task.status == TaskStatus.DONE and task.visit == visit and task.closed_at is not None


# --- after reporting home, after a life event ----------------------------------------------------------


def test_welcome_visit_within_30_days_of_reporting(tree):
    welcome = rule("返乡走访", RuleKind.AFTER_REPORT, "homecoming", due_within_days=30, everyone=True)
    recent = make_veteran(tree["village_a1"], name="新退役", report_date=date(2027, 3, 10))
    long_ago = make_veteran(tree["village_a1"], name="老退役", report_date=date(2020, 3, 10))
    engine.generate(welcome, date(2027, 3, 15))
    [task] = tasks(recent)
    assert (task.period_key, task.opens_on, task.due_date) == ("R2027-03-10", date(2027, 3, 10), date(2027, 4, 9))
    assert tasks(long_ago) == []


def test_must_visit_within_3_days_of_a_life_event(tree, users, django_capture_on_commit_callbacks):
    person = make_veteran(tree["village_a1"])
    with django_capture_on_commit_callbacks(execute=True):
        event = services.life_event_record(actor=users["village_a1"], veteran=person,
                                           occasion=occasion("hospitalised"), date=date.today(),
                                           description="住院")
    [task] = [t for t in tasks(person) if t.life_event_id]
    assert task.life_event == event and task.occasion.code == "must_visit"
    assert (task.due_date - event.date).days == 3 and task.period_key == f"E{event.pk}"


def test_merit_notice_asks_for_a_delivery(tree, users):
    deliver = rule("送喜报", RuleKind.AFTER_EVENT, "merit_delivery", due_within_days=7, everyone=True,
                   m2m={"event_occasions": [occasion("merit_notice")]})
    person = make_veteran(tree["village_a1"])
    services.life_event_record(actor=None, veteran=person, occasion=occasion("merit_notice"), date=date(2026, 6, 1))
    services.life_event_record(actor=None, veteran=person, occasion=occasion("hospitalised"), date=date(2026, 6, 2))
    assert engine.generate(deliver, date(2026, 6, 3)) == 1  # only the merit notice triggers this rule
    assert tasks(person)[0].due_date == date(2026, 6, 8)


# --- festivals (lunar dates from lunar_python) ----------------------------------------------------------


@pytest.mark.parametrize(("on", "key", "due"), [
    (date(2026, 2, 1), "F2026", date(2026, 2, 17)),   # 春节 2026: 17 February
    (date(2027, 1, 20), "F2027", date(2027, 2, 6)),   # 春节 2027: 6 February
    (date(2027, 12, 20), "F2028", date(2028, 1, 26)),  # the next year's festival, opened across new year
    (date(2028, 1, 26), "F2028", date(2028, 1, 26)),  # the day itself
])
def test_spring_festival_across_years(tree, on, key, due):
    spring = rule("春节", RuleKind.FESTIVAL, "spring_festival", calendar="lunar", month=1, day=1, lead_days=40,
                  everyone=True)
    person = make_veteran(tree["village_a1"])
    assert engine.generate(spring, on) == 1
    [task] = tasks(person)
    assert (task.period_key, task.due_date) == (key, due)
    assert task.campaign is not None and task.campaign.name == f"{key[1:]} 春节走访"


def test_mid_autumn_and_army_day(tree):
    person = make_veteran(tree["village_a1"])
    mid_autumn = rule("中秋", RuleKind.FESTIVAL, "mid_autumn", calendar="lunar", month=8, day=15, lead_days=10,
                      everyone=True)
    assert engine.festival_date(mid_autumn, 2026) == date(2026, 9, 25)
    assert engine.festival_date(mid_autumn, 2027) == date(2027, 9, 15)
    assert engine.generate(mid_autumn, date(2026, 9, 1)) == 0  # not yet open
    assert engine.generate(mid_autumn, date(2026, 9, 16)) == 1
    assert engine.generate(mid_autumn, date(2026, 9, 26)) == 0  # over
    army = rule("八一", RuleKind.FESTIVAL, "army_day", calendar="solar", month=8, day=1, lead_days=5, everyone=True)
    assert engine.generate(army, date(2027, 7, 28)) == 1
    assert tasks(person, army)[0].due_date == date(2027, 8, 1)


def test_festival_rule_for_chosen_categories(tree):
    army = rule("八一", RuleKind.FESTIVAL, "army_day", calendar="solar", month=8, day=1, lead_days=5,
                m2m={"categories": [Code.objects.get(kind="category", name="残疾军人")]})
    disabled = make_veteran(tree["village_a1"], name="残疾", primary_category=Code.objects.get(
        kind="category", name="残疾军人"))
    also = make_veteran(tree["village_a1"], name="兼有")
    also.categories.add(Code.objects.get(kind="category", name="残疾军人"))
    other = make_veteran(tree["village_a1"], name="其他")
    engine.generate(army, date(2027, 7, 30))
    assert len(tasks(disabled)) == len(tasks(also)) == 1 and tasks(other) == []


# --- birthdays ------------------------------------------------------------------------------------------


def test_birthday_visit_for_those_turning_80_or_more(tree):
    birthday = rule("高龄生日", RuleKind.BIRTHDAY, "birthday", min_age=80, lead_days=7)
    eighty = make_veteran(tree["village_a1"], name="八十", id_number=id_number("19470210"))
    seventy_nine = make_veteran(tree["village_a1"], name="七十九", id_number=id_number("19480210"))
    engine.generate(birthday, date(2027, 2, 5))
    [task] = tasks(eighty)
    assert (task.period_key, task.opens_on, task.due_date) == ("B2027", date(2027, 2, 3), date(2027, 2, 10))
    assert tasks(seventy_nine) == []
    assert engine.generate(birthday, date(2027, 1, 20)) == 0  # too early


def test_birthday_across_new_year_and_on_29_february(tree):
    birthday = rule("高龄生日", RuleKind.BIRTHDAY, "birthday", min_age=80, lead_days=7)
    january = make_veteran(tree["village_a1"], name="元月", id_number=id_number("19400103"))
    leap = make_veteran(tree["village_a1"], name="闰日", id_number=id_number("19400229"))
    engine.generate(birthday, date(2026, 12, 30))
    assert [(t.period_key, t.due_date) for t in tasks(january)] == [("B2027", date(2027, 1, 3))]
    engine.generate(birthday, date(2027, 2, 25))
    assert [(t.period_key, t.due_date) for t in tasks(leap)] == [("B2027", date(2027, 2, 28))]


# --- selectors ------------------------------------------------------------------------------------------


def test_selectors_age_unit_tag_and_discharge_mode(tree):
    mode = Code.objects.get(kind="discharge_mode", name="自主就业")
    tag = Code.objects.get(kind="tag", name="困难退役军人")
    chosen = rule("组合", RuleKind.INTERVAL, "contact", interval_months=12, min_age=60,
                  m2m={"discharge_modes": [mode], "tags": [tag], "org_units": [tree["street_a"]]})
    match = make_veteran(tree["village_a2"], name="符合", id_number=id_number("19500101"), discharge_mode=mode,
                         tags=[tag])
    young = make_veteran(tree["village_a2"], name="年轻", id_number=id_number("19900101"), discharge_mode=mode,
                         tags=[tag])
    elsewhere = make_veteran(tree["village_b1"], name="乙街", id_number=id_number("19500101"), discharge_mode=mode,
                             tags=[tag])
    untagged = make_veteran(tree["village_a2"], name="无标签", id_number=id_number("19500101"), discharge_mode=mode)
    engine.generate(chosen, date(2027, 1, 5))
    assert len(tasks(match)) == 1
    assert tasks(young) == tasks(elsewhere) == tasks(untagged) == []


def test_closed_records_get_no_tasks_and_lose_open_ones(tree, users):
    yearly = rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    person = make_veteran(tree["village_a1"])
    engine.generate(yearly, date.today())
    registry_services.veteran_close(actor=users["village_a1"], veteran=person, status="deceased", on=date.today())
    assert engine.cancel_stale(None, date.today()) == 1
    assert tasks(person)[0].status == TaskStatus.CANCELLED
    assert engine.generate(yearly, date.today()) == 0


def test_an_event_already_answered_asks_for_nothing(tree, users):
    deliver = rule("送喜报", RuleKind.AFTER_EVENT, "merit_delivery", due_within_days=7, everyone=True,
                   m2m={"event_occasions": [occasion("merit_notice")]})
    person = make_veteran(tree["village_a1"])
    services.life_event_record(actor=None, veteran=person, occasion=occasion("merit_notice"), date=date(2026, 6, 1))
    services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("merit_delivery"),
                       date=date(2026, 6, 2), visitors="街道、人武部")
    assert engine.generate(deliver, date(2026, 6, 3)) == 0


def test_statements_compiled_once_serve_each_person_and_follow_a_rule_change(tree):
    """Recomputing a few people reuses the statements compiled for the rules and day: each person still gets
    exactly their own tasks, and a changed rule is compiled afresh."""
    yearly = rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, min_age=60)
    old = make_veteran(tree["village_a1"], name="年长", id_number=id_number("19500101"))
    older = make_veteran(tree["village_b1"], name="更年长", id_number=id_number("19400101"))
    young = make_veteran(tree["village_a1"], name="年轻", id_number=id_number("19900101"))
    on = date(2027, 3, 1)
    engine._COMPILED.clear()
    assert engine.generate_all([yearly], on, ids=[old.pk]) == 1
    assert engine.generate_all([yearly], on, ids=[young.pk]) == 0
    assert engine.generate_all([yearly], on, ids=[older.pk, young.pk]) == 1
    assert len(engine._COMPILED) == 1
    assert [t.org_unit for t in tasks(older)] == [tree["village_b1"]] and tasks(young) == []
    yearly.min_age, yearly.everyone = None, True
    yearly = services.rule_save(actor=None, rule=yearly)
    assert engine.generate_all([yearly], on, ids=[young.pk]) == 1
    assert len(engine._COMPILED) == 2
