"""The daily notice says what is due today, overdue and new, each counted right (issue 10, finding 30): it
said "有 51 项走访任务到期" when one task was overdue, none was due today and fifty were merely new."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from apps.care import services
from apps.care.models import DueVisit, Occasion
from apps.core.models import Notification
from tests.care.helpers_pages import contact_rule, ensure_care_seed, make_task
from tests.registry.factories import make_veteran

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2027, 3, 10)


def at(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 2, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def station(tree, users, roles):
    """Village A1: fifty tasks created today (the quarter's contact, due at its end), one overdue task told
    about long ago, one task created today and due today. Village A2: one task due today, told yesterday."""
    ensure_care_seed()
    rule = contact_rule()
    people = [make_veteran(tree["village_a1"], name=f"甲一{n}") for n in range(52)]
    for person in people[:50]:
        make_task(person, rule=rule, opens_on=DAY, due=date(2027, 6, 30))  # new, not told yet
    make_task(people[50], rule=rule, opens_on=date(2027, 1, 1), due=DAY - timedelta(days=3),
              notified_on=date(2027, 1, 2))
    make_task(people[51], rule=rule, opens_on=DAY, due=DAY)  # new and due today: counted once, as due today
    today = make_task(make_veteran(tree["village_a2"], name="甲二"), rule=rule, opens_on=DAY - timedelta(days=5),
                      due=DAY, notified_on=DAY - timedelta(days=1))
    return {"today": today}


def remind(on: date = DAY) -> int:
    with at(on), translation.override("zh-hans"):
        return services.remind_due(on=on)


def test_each_figure_is_counted_on_its_own(station, users):
    assert remind() == 2
    [a1] = Notification.objects.filter(recipient=users["village_a1"])
    assert a1.title == "走访任务：今日到期 1 项，逾期 1 项，新增 50 项"
    assert "51" not in a1.title and "52" not in a1.title and "逾期" in a1.body
    assert a1.link == "/care/worklist/?view=today" and a1.level == "warning"
    [a2] = Notification.objects.filter(recipient=users["village_a2"])
    assert a2.title == "走访任务：今日到期 1 项，逾期 0 项，新增 0 项"
    assert a2.link == "/care/worklist/?view=today"
    assert not Notification.objects.filter(recipient=users["village_b1"]).exists()  # nothing there
    assert DueVisit.objects.filter(notified_on__isnull=True).count() == 0


def test_told_once_a_day_and_new_means_new_since_the_last_notice(station, users):
    assert remind() == 2
    assert remind() == 0
    assert Notification.objects.filter(recipient=users["village_a1"]).count() == 1  # the same day: not again
    next_day = DAY + timedelta(days=1)
    remind(next_day)
    latest = Notification.objects.filter(recipient=users["village_a1"]).order_by("-id").first()
    assert latest.title == "走访任务：今日到期 0 项，逾期 2 项，新增 0 项"
    assert latest.link == "/care/worklist/?view=overdue"
    a2 = Notification.objects.filter(recipient=users["village_a2"]).order_by("-id").first()
    assert a2.title == "走访任务：今日到期 0 项，逾期 1 项，新增 0 项"  # yesterday's due today is overdue now


def test_tasks_born_in_the_nightly_run_are_counted_new_once(tree, users, roles):
    """The nightly run counts the tasks it creates already open and due later on the run
    (``pending_reminders``) and tells the station once; a task it creates already overdue (a must-visit for
    an event recorded late) is counted overdue, not new."""
    ensure_care_seed()
    people = [make_veteran(tree["village_a1"], name=f"新{n}") for n in range(3)]
    with at(date(2027, 4, 1)), translation.override("zh-hans"):
        services.life_event_record(actor=None, veteran=people[0], occasion=Occasion.objects.get(code="hardship"),
                                   date=date(2027, 3, 25))
        services.reminders_run()
        services.reminders_run()
    [note] = Notification.objects.filter(recipient=users["village_a1"])
    assert note.title == "走访任务：今日到期 0 项，逾期 1 项，新增 3 项"
