"""Care services: validation, recompute on change, rule changes, the nightly run, escalation and reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from apps.care import engine, services
from apps.care.choices import EscalationLevel, RuleKind, TaskStatus, VisitMode
from apps.care.models import CareRun, DueVisit, Occasion, VisitRule
from apps.core.models import Notification
from apps.registry import services as registry_services
from apps.registry.models import Code
from tests.care.test_engine import key_recipient, occasion, rule, tasks
from tests.connections import open_connection
from tests.registry.factories import id_number, make_veteran

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 2):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


# --- validation ----------------------------------------------------------------------------------


def test_a_visit_in_the_future_or_before_birth_is_refused(tree, users):
    person = make_veteran(tree["village_a1"], id_number=id_number("19600101"))
    for day, message in ((date.today() + timedelta(days=1), "日期不能晚于今天"),
                         (date(1959, 12, 31), "出生日期")):
        with pytest.raises(ValidationError) as error:
            services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("contact"), date=day,
                               visitors="王专干")
        assert message in error.value.message_dict["date"][0]
    with pytest.raises(ValidationError) as error:
        services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("contact"), date=date.today(),
                           visitors="  ")
    assert "visitors" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("contact"), date=date.today(),
                           visitors="王专干", money=Decimal("-5"))
    assert "money" in error.value.message_dict
    assert not person.visits.exists()


@pytest.mark.parametrize(("fields", "m2m", "field", "text"), [
    ({"kind": RuleKind.INTERVAL, "interval_months": 3}, {}, "everyone", "适用对象"),
    ({"kind": RuleKind.INTERVAL, "interval_months": 5, "everyone": True}, {}, "interval_months", "1、2、3、4、6 或 12"),
    ({"kind": RuleKind.INTERVAL, "interval_months": None, "everyone": True}, {}, "interval_months", "1、2、3、4、6 或 12"),
    ({"kind": RuleKind.AFTER_REPORT, "due_within_days": -3, "everyone": True}, {}, "due_within_days", "不能为负数"),
    ({"kind": RuleKind.AFTER_EVENT, "due_within_days": 3, "everyone": True}, {}, "event_occasions", "触发"),
    ({"kind": RuleKind.FESTIVAL, "calendar": "lunar", "month": 1, "day": 31, "everyone": True}, {}, "day", "1–30"),
    ({"kind": RuleKind.FESTIVAL, "month": 8, "day": 1, "everyone": True}, {}, "calendar", "历法"),
    ({"kind": RuleKind.BIRTHDAY, "everyone": True}, {}, "min_age", "年龄"),
    ({"kind": RuleKind.INTERVAL, "interval_months": 12, "min_age": 80, "max_age": 70}, {}, "max_age", "低于"),
    ({"kind": RuleKind.INTERVAL, "interval_months": 12, "everyone": True, "escalate_street_days": 10,
      "escalate_bureau_days": 5}, {}, "escalate_bureau_days", "街道"),
])
def test_bad_rules_get_a_clear_message(db, fields, m2m, field, text):
    with pytest.raises(ValidationError) as error:
        services.rule_save(actor=None, rule=VisitRule(name="错误规则", occasion=occasion("contact"), **fields), m2m=m2m)
    assert text in " ".join(error.value.message_dict[field])
    assert not VisitRule.objects.filter(name="错误规则").exists()


# --- recompute on change --------------------------------------------------------------------------


def test_a_new_record_gets_its_tasks_at_once(tree, django_capture_on_commit_callbacks):
    rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    with django_capture_on_commit_callbacks(execute=True):
        person = make_veteran(tree["village_a1"])
    assert [t.period_key for t in tasks(person)] == [f"I{date.today().year}-01"]


def test_tasks_follow_a_transfer_and_end_with_the_record(tree, users, django_capture_on_commit_callbacks):
    rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    with django_capture_on_commit_callbacks(execute=True):
        person = make_veteran(tree["village_a1"])
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.veteran_transfer(actor=users["street_a"], veteran=person, to_unit=tree["village_b1"],
                                           on=date.today())
    [task] = tasks(person)
    assert task.org_unit == tree["village_b1"] and task.status == TaskStatus.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.veteran_close(actor=users["bureau"], veteran=person, status="deceased", on=date.today())
    assert tasks(person)[0].status == TaskStatus.CANCELLED


def test_a_change_of_category_adds_and_removes_tasks(tree, django_capture_on_commit_callbacks):
    quarterly = rule("季度联系", RuleKind.INTERVAL, "contact", interval_months=3, key_recipients_only=True)
    with django_capture_on_commit_callbacks(execute=True):
        person = make_veteran(tree["village_a1"])
    assert tasks(person) == []
    with django_capture_on_commit_callbacks(execute=True):
        key_recipient(person)
    assert len(tasks(person, quarterly)) == 1
    person.care.all().delete()
    services.people_recompute(ids=[person.pk])
    assert tasks(person, quarterly)[0].status == TaskStatus.CANCELLED


def test_changing_a_rule_recomputes_its_tasks(tree, django_capture_on_commit_callbacks):
    yearly = rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    a1 = make_veteran(tree["village_a1"], name="甲一")
    b1 = make_veteran(tree["village_b1"], name="乙一")
    services.rule_recompute(rule=yearly)
    assert len(tasks(a1)) == len(tasks(b1)) == 1
    yearly.everyone = False
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_save(actor=None, rule=yearly, m2m={"org_units": [tree["street_a"]]})
    assert tasks(a1)[0].status == TaskStatus.OPEN
    assert tasks(b1)[0].status == TaskStatus.CANCELLED
    yearly.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_save(actor=None, rule=yearly)
    assert tasks(a1)[0].status == TaskStatus.CANCELLED


# --- the nightly run ---------------------------------------------------------------------------------


def test_nightly_run_is_idempotent_and_recorded(tree, users):
    people = [make_veteran(tree["village_a1"], name=f"老兵{n}") for n in range(4)]
    key_recipient(people[0])
    first = services.reminders_run()
    assert first.created == DueVisit.objects.count() > 4 and first.finished_at and not first.error
    second = services.reminders_run()
    assert second.created == 0 and DueVisit.objects.count() == first.created
    assert CareRun.objects.count() == 2


def test_a_run_killed_midway_is_completed_by_the_next(tree, users, monkeypatch, settings):
    settings.CARE_REMINDER_CHUNK = 2
    people = [make_veteran(tree["village_a1"], name=f"老兵{n}") for n in range(7)]
    real_generate = engine.generate_chunk

    def dies_in_chunk_3(rules, on, id_range):
        if id_range[0] >= people[0].pk + 4:
            raise RuntimeError("worker killed")
        return real_generate(rules, on, id_range)

    monkeypatch.setattr(engine, "generate_chunk", dies_in_chunk_3)
    with pytest.raises(RuntimeError):
        services.reminders_run()
    broken = CareRun.objects.get()
    assert "worker killed" in broken.error and broken.created > 0  # chunks 1 and 2 were kept
    kept = DueVisit.objects.count()
    assert sum(broken.pending_reminders.values()) == kept  # nobody was told yet: the counts wait on the run
    assert not Notification.objects.filter(recipient=users["village_a1"]).exists()
    monkeypatch.setattr(engine, "generate_chunk", real_generate)
    completed = services.reminders_run()
    yearly = VisitRule.objects.get(name="全体人员每年至少联系一次")
    assert DueVisit.objects.filter(rule=yearly).count() == 7  # everyone, once
    assert completed.created == DueVisit.objects.count() - kept
    # The station is told once about every task, those of the killed run included.
    [told] = Notification.objects.filter(recipient=users["village_a1"])
    assert str(DueVisit.objects.count()) in told.title
    assert not CareRun.objects.exclude(pending_reminders={}).exists()
    assert not DueVisit.objects.values("rule", "veteran", "period_key").order_by().annotate(
        n=__import__("django.db.models", fromlist=["Count"]).Count("id")).filter(n__gt=1).exists()


def test_only_one_run_at_a_time(tree):
    other = open_connection()
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [services.LOCK_KEY])
        with pytest.raises(services.RunInProgress):
            services.reminders_run()
        other.execute("SELECT pg_advisory_unlock(%s)", [services.LOCK_KEY])
        assert services.reminders_run().finished_at is not None
    finally:
        other.close()


# --- reminders and escalation (time frozen) ---------------------------------------------------------


def _one_task(tree, **rule_fields):
    spring = rule("春节", RuleKind.FESTIVAL, "spring_festival", calendar="lunar", month=1, day=1, lead_days=20,
                  everyone=True, **rule_fields)
    person = make_veteran(tree["village_a1"])
    return spring, person


def test_the_station_is_reminded_once_when_a_visit_becomes_due(tree, users, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp", "email", "sms"]
    users["village_a1"].email = "a1@example.cn"
    users["village_a1"].save()
    spring, person = _one_task(tree)
    with at(date(2027, 1, 10)):  # before the campaign opens (17 January)
        services.reminders_run()
    assert not Notification.objects.exists()
    with at(date(2027, 1, 18)):
        services.reminders_run()
        services.reminders_run()
    [note] = Notification.objects.all()
    assert note.recipient == users["village_a1"] and "1" in note.title and note.link == "/care/worklist/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a1@example.cn"]
    assert not Notification.objects.filter(recipient=users["village_a2"]).exists()  # a sibling is not told


def test_overdue_tasks_escalate_to_the_street_then_the_bureau(tree, users):
    spring, person = _one_task(tree, escalate_street_days=3, escalate_bureau_days=10)
    with at(date(2027, 1, 18)):
        services.reminders_run()
    [task] = tasks(person)
    assert task.due_date == date(2027, 2, 6)
    with at(date(2027, 2, 9)):  # 3 days overdue: not yet
        services.reminders_run()
    task.refresh_from_db()
    assert task.level == EscalationLevel.STATION
    with at(date(2027, 2, 10)):
        services.reminders_run()
        services.reminders_run()
    task.refresh_from_db()
    assert (task.level, task.escalated_on) == (EscalationLevel.STREET, date(2027, 2, 10))
    street_notes = Notification.objects.filter(recipient=users["street_a"])
    assert street_notes.count() == 1 and "街道" in street_notes.get().title
    assert not Notification.objects.filter(recipient=users["street_b"]).exists()
    assert not Notification.objects.filter(recipient=users["bureau"]).exists()
    with at(date(2027, 2, 17)):
        services.reminders_run()
    task.refresh_from_db()
    assert task.level == EscalationLevel.BUREAU
    assert Notification.objects.filter(recipient=users["bureau"]).count() == 1
    # A visit closes it wherever it has climbed.
    with at(date(2027, 2, 18)):
        services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("spring_festival"),
                           date=date(2027, 2, 18), visitors="王专干", mode=VisitMode.HOME, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_a_clicked_task_closes_even_with_another_occasion(tree, users):
    spring, person = _one_task(tree)
    with at(date(2027, 1, 18)):
        services.reminders_run()
        [task] = tasks(person)
        services.visit_log(actor=users["village_a1"], veteran=person, occasion=Occasion.objects.get(code="other"),
                           date=date(2027, 1, 18), visitors="王专干", task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    with pytest.raises(ValidationError):
        services.visit_log(actor=users["village_a1"], veteran=person, occasion=occasion("other"),
                           date=date(2026, 1, 18), visitors="王专干", task=task)


def test_default_rules_cover_everyone(tree, users):
    key = key_recipient(make_veteran(tree["village_a1"], name="重点"))
    plain = make_veteran(tree["village_a1"], name="普通", primary_category=Code.objects.get(kind="category",
                                                                                        name="复员军人"))
    with at(date(2027, 1, 20)):
        services.reminders_run()
    names = {t.rule.name for t in tasks(key)}
    assert {"重点优抚对象每季度联系", "重点优抚对象每年上门走访", "全体人员每年至少联系一次", "春节走访重点优抚对象"} <= names
    assert {t.rule.name for t in tasks(plain)} == {"全体人员每年至少联系一次"}


def test_an_occasion_in_use_stays_on(db):
    contact = occasion("contact")
    contact.is_active = False
    with pytest.raises(ValidationError) as error:
        services.occasion_save(actor=None, occasion=contact)
    assert "停用" in error.value.message_dict["is_active"][0]
    hospital = occasion("hospitalised")
    hospital.is_life_event = False
    with pytest.raises(ValidationError) as error:
        services.occasion_save(actor=None, occasion=hospital)
    assert "is_life_event" in error.value.message_dict
    unused = occasion("other")
    unused.is_active = False
    services.occasion_save(actor=None, occasion=unused)
    assert not Occasion.objects.get(code="other").is_active


def test_imported_records_get_their_tasks(tree, users, tmp_path, django_capture_on_commit_callbacks):
    from openpyxl import Workbook

    from apps.registry.importing import veteran_import

    rule("每年联系", RuleKind.INTERVAL, "contact", interval_months=12, everyone=True)
    sheet = Workbook()
    sheet.active.append(["姓名", "公民身份号码", "采集类别"])
    for n in range(3):
        sheet.active.append([f"导入{n}", id_number("19600101"), "退役士兵"])
    path = tmp_path / "import.xlsx"
    sheet.save(path)
    with django_capture_on_commit_callbacks(execute=True):
        report = veteran_import(actor=users["village_a1"], path=path, unit=tree["village_a1"], commit=True)
    assert report.created == 3
    imported = DueVisit.objects.filter(veteran__name__startswith="导入", status=TaskStatus.OPEN)
    assert imported.count() == 3
