"""A visit closes only what it answers (issue 10, finding 27): the task it was logged from, and the other
open tasks of the person whose rule the visit's occasion answers within the same period; a task visited
after its due date counts as late in every figure (worklist, campaigns, the visit page)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from apps.care import engine, selectors, services
from apps.care.choices import RuleKind, TaskStatus, VisitMode
from apps.care.models import Campaign, DueVisit
from tests.care.test_engine import key_recipient, occasion, rule, tasks
from tests.conftest import login
from tests.registry.factories import make_veteran

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def by_key(person) -> dict[tuple[str, str], DueVisit]:
    return {(t.rule.name, t.period_key): t for t in DueVisit.objects.filter(veteran=person).select_related("rule")}


@pytest.fixture
def key_person(tree, users):
    """A key care recipient under the seeded default rules, with the nightly runs of November 2026 (2026's
    annual and fourth-quarter tasks, never visited) and of 20 January 2027 (2027's, and 春节 2027)."""
    person = key_recipient(make_veteran(tree["village_a1"], name="重点对象"))
    with at(date(2026, 11, 1)):
        services.reminders_run()
    with at(date(2027, 1, 20)):
        services.reminders_run()
    found = by_key(person)
    assert {("重点优抚对象每季度联系", "I2026-10"), ("重点优抚对象每年上门走访", "I2026-01"),
            ("全体人员每年至少联系一次", "I2026-01"), ("重点优抚对象每季度联系", "I2027-01"),
            ("重点优抚对象每年上门走访", "I2027-01"), ("全体人员每年至少联系一次", "I2027-01"),
            ("春节走访重点优抚对象", "F2027")} <= set(found)
    return person


def test_a_spring_festival_visit_closes_only_the_spring_festival_task(key_person, users):
    spring = by_key(key_person)[("春节走访重点优抚对象", "F2027")]
    with at(date(2027, 1, 25)):
        visit = services.visit_log(actor=users["village_a1"], veteran=key_person, occasion=occasion("spring_festival"),
                                   date=date(2027, 1, 25), visitors="王专干", mode=VisitMode.HOME, task=spring)
    closed = [t for t in by_key(key_person).values() if t.status == TaskStatus.DONE]
    assert [(t.rule.name, t.period_key) for t in closed] == [("春节走访重点优抚对象", "F2027")]
    assert closed[0].visit == visit and closed[0].completed_on == date(2027, 1, 25) and not closed[0].is_late


def test_a_contact_visit_closes_this_periods_contact_tasks_not_last_years(key_person, users):
    with at(date(2027, 1, 26)):
        services.visit_log(actor=users["village_a1"], veteran=key_person, occasion=occasion("contact"),
                           date=date(2027, 1, 26), visitors="王专干", mode=VisitMode.HOME)
    found = by_key(key_person)
    done = {key for key, t in found.items() if t.status == TaskStatus.DONE}
    assert done == {("重点优抚对象每季度联系", "I2027-01"), ("重点优抚对象每年上门走访", "I2027-01"),
                    ("全体人员每年至少联系一次", "I2027-01")}
    assert found[("春节走访重点优抚对象", "F2027")].status == TaskStatus.OPEN
    for key in (("重点优抚对象每季度联系", "I2026-10"), ("重点优抚对象每年上门走访", "I2026-01")):
        assert found[key].status == TaskStatus.OPEN  # overdue, and still to be made up


def test_a_phone_call_does_not_close_a_home_visit_task_of_the_period(key_person, users):
    with at(date(2027, 1, 26)):
        services.visit_log(actor=users["village_a1"], veteran=key_person, occasion=occasion("contact"),
                           date=date(2027, 1, 26), visitors="王专干", mode=VisitMode.PHONE)
    found = by_key(key_person)
    assert found[("重点优抚对象每年上门走访", "I2027-01")].status == TaskStatus.OPEN
    assert found[("重点优抚对象每季度联系", "I2027-01")].status == TaskStatus.DONE


def test_a_task_visited_after_its_due_date_is_late_everywhere(key_person, users, client):
    overdue = by_key(key_person)[("重点优抚对象每季度联系", "I2026-10")]
    spring = by_key(key_person)[("春节走访重点优抚对象", "F2027")]
    with at(date(2027, 2, 9)):
        made_up = services.visit_log(actor=users["village_a1"], veteran=key_person, occasion=occasion("contact"),
                                     date=date(2027, 2, 9), visitors="王专干", mode=VisitMode.HOME, task=overdue)
        services.visit_log(actor=users["village_a1"], veteran=key_person, occasion=occasion("spring_festival"),
                           date=date(2027, 2, 8), visitors="王专干", mode=VisitMode.HOME, task=spring)
    found = by_key(key_person)
    overdue, spring = found[("重点优抚对象每季度联系", "I2026-10")], found[("春节走访重点优抚对象", "F2027")]
    assert overdue.status == TaskStatus.DONE and overdue.is_late and overdue.completed_on == date(2027, 2, 9)
    assert spring.is_late
    # The made-up visit answers its own task only: 2026's annual tasks stay open.
    assert found[("重点优抚对象每年上门走访", "I2026-01")].status == TaskStatus.OPEN
    campaign = Campaign.objects.get(rule=spring.rule, period_key="F2027")
    [row] = [r for r in selectors.campaign_list(user=users["village_a1"]) if r["campaign"] == campaign]
    assert (row["total"], row["done"], row["late"], row["on_time"]) == (1, 1, 1, 0)
    [street] = [r for r in selectors.campaign_progress(user=users["bureau"], campaign=campaign) if r["total"]]
    assert (street["done"], street["late"], street["on_time_percent"]) == (1, 1, 0)
    with at(date(2027, 2, 10)):
        login(client, users["village_a1"])
        worklist = client.get(reverse("care:worklist"), {"view": "done"}).content.decode()
        visit_page = client.get(made_up.get_absolute_url()).content.decode()
        campaign_page = client.get(campaign.get_absolute_url()).content.decode()
    row_html = worklist[worklist.index(f'data-task="{overdue.pk}"'):]
    assert 'data-late="1"' in row_html[:row_html.index("</tr>")]
    assert 'data-late="1"' in visit_page
    assert 'data-late="1"' in campaign_page and 'id="campaign-late"' in campaign_page


def test_the_engine_and_the_closing_agree_on_what_a_visit_answers(tree, users):
    """A festival visit made before the quarter's contact task exists does not stand in for it either."""
    quarterly = rule("季度联系", RuleKind.INTERVAL, "contact", interval_months=3, everyone=True)
    person = make_veteran(tree["village_a1"])
    services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("spring_festival"),
                       date=date(2026, 2, 1), visitors="王专干", mode=VisitMode.HOME)
    assert engine.generate(quarterly, date(2026, 3, 1)) == 1
    services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("contact"),
                       date=date(2026, 4, 2), visitors="王专干", mode=VisitMode.PHONE)
    assert engine.generate(quarterly, date(2026, 5, 1)) == 0  # this quarter's contact made before its task
    assert [t.status for t in tasks(person)] == [TaskStatus.OPEN]
