"""机关驻街: pairings, monthly task items, who may change what, scoping, the monthly summary, copying a month."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.choices import Role
from apps.core.models import AccessLog
from apps.liaison import selectors, services
from apps.liaison.choices import LiaisonStatus
from apps.liaison.models import LiaisonPairing, LiaisonTask
from tests.conftest import login
from tests.liaison.conftest import LAST_MONTH, THIS_MONTH, add_task
from tests.versions import any_version


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# --- services: pairings --------------------------------------------------------------------------


def test_pairing_needs_a_department_and_a_street(users, tree):
    with pytest.raises(ValidationError) as exc:
        services.pairing_save(actor=users["bureau"], department="  ", street=tree["village_a1"])
    assert errors_of(exc) == {"department": ["请填写局机关科室。"],
                              "street": ["科室只能与街道(镇)结对，不能与甲一社区结对。"]}


def test_pairing_is_unique_per_department_and_street(users, tree, pairing_a):
    with pytest.raises(ValidationError) as exc:
        services.pairing_save(actor=users["bureau"], department="优抚科 ", street=tree["street_a"])
    assert errors_of(exc) == {"department": ["优抚科已与甲街道结对。"]}
    # Saving the pairing itself again is no clash.
    services.pairing_save(actor=users["bureau"], pairing=pairing_a, department="优抚科", street=tree["street_a"],
                          members=[], is_active=False)
    pairing_a.refresh_from_db()
    assert not pairing_a.is_active and not pairing_a.members.exists()


def test_pairing_officers_work_at_the_bureau_or_the_street(users, tree):
    with pytest.raises(ValidationError) as exc:
        services.pairing_save(actor=users["bureau"], department="优抚科", street=tree["street_a"],
                              members=[users["bureau"], users["street_b"]])
    assert errors_of(exc) == {"members": ["测试5：驻街干部须为局机关工作人员或甲街道的工作人员。"]}
    with pytest.raises(ValidationError):  # an enterprise contact is no liaison officer
        services.pairing_save(actor=users["bureau"], department="优抚科", street=tree["street_a"],
                              members=[users["enterprise"]])
    pairing = services.pairing_save(actor=users["bureau"], department="优抚科", street=tree["street_a"],
                                    members=[users["bureau"], users["street_a"], users["village_a1"]])
    assert pairing.members.count() == 3


# --- services: task items ------------------------------------------------------------------------


def test_member_choices_are_bureau_staff_and_leadership(users, tree, pairing_a):
    chosen = set(selectors.member_choices(user=users["bureau"]))
    assert chosen == {users["bureau"], users["leader"]}
    pairing = services.pairing_save(actor=None, department="安置科", street=tree["street_a"],
                                    members=[users["street_a"]])
    assert users["street_a"] in selectors.member_choices(user=users["bureau"], pairing=pairing)


def test_task_validation_messages(users, pairing_a):
    with pytest.raises(ValidationError) as exc:
        services.liaison_task_save(actor=users["bureau"], pairing=pairing_a, month=THIS_MONTH, item="   ",
                                   due_date=LAST_MONTH)
    assert errors_of(exc) == {"item": ["请填写任务内容。"],
                              "due_date": [f"截止日期早于任务所属月份（{THIS_MONTH:%Y-%m}）。"]}
    with pytest.raises(ValidationError) as exc:
        services.liaison_task_save(actor=users["bureau"], pairing=pairing_a, item="事项", due_date=None, month=None)
    assert set(errors_of(exc)) == {"month", "due_date"}


def test_task_month_is_the_first_day_and_the_due_date_may_fall_later(users, pairing_a):
    task = services.liaison_task_save(actor=users["bureau"], pairing=pairing_a, month=THIS_MONTH.replace(day=17),
                                      item=" 核对名册 ", due_date=services.month_shift(THIS_MONTH, 1))
    assert task.month == THIS_MONTH and task.item == "核对名册" and task.status == LiaisonStatus.PLANNED


def test_task_owner_is_an_officer_or_a_user_of_the_street(users, pairing_a):
    for who in ("bureau", "street_a", "village_a1"):
        assert add_task(pairing_a, actor=users["bureau"], item=f"事项{who}", owner=users[who]).owner == users[who]
    for who in ("street_b", "leader"):
        with pytest.raises(ValidationError) as exc:
            add_task(pairing_a, actor=users["bureau"], owner=users[who])
        assert errors_of(exc) == {"owner": ["负责人须为本结对的驻街干部或甲街道的工作人员。"]}


def test_street_staff_report_status_and_feedback_only(users, pairing_a):
    task = add_task(pairing_a, actor=users["bureau"])
    task = services.liaison_task_save(actor=users["street_a"], pairing=pairing_a, task=task,
                                      status=LiaisonStatus.DONE, feedback="已走访5户")
    task.refresh_from_db()
    assert (task.status, task.feedback) == (LiaisonStatus.DONE, "已走访5户")
    # Passing an unchanged value of another field is harmless; changing it is refused.
    services.liaison_task_save(actor=users["street_a"], pairing=pairing_a, task=task, item=task.item,
                               status=LiaisonStatus.DONE)
    with pytest.raises(ValidationError) as exc:
        services.liaison_task_save(actor=users["street_a"], pairing=pairing_a, task=task, item="改掉任务",
                                   due_date=task.due_date + timedelta(days=3))
    assert errors_of(exc) == {"item": ["只有局机关工作人员可以修改此项。"], "due_date": ["只有局机关工作人员可以修改此项。"]}


def test_street_staff_cannot_write_inspection_notes(users, pairing_a):
    task = add_task(pairing_a, actor=users["bureau"])
    with pytest.raises(ValidationError) as exc:
        services.liaison_task_save(actor=users["street_a"], pairing=pairing_a, task=task, feedback="完成",
                                   inspection_notes="自己写的督查意见")
    assert errors_of(exc) == {"inspection_notes": ["督查意见由局机关填写。"]}
    task.refresh_from_db()
    assert task.inspection_notes == "" and task.feedback == ""  # nothing of the refused change was kept
    services.liaison_task_save(actor=users["bureau"], pairing=pairing_a, task=task, inspection_notes="抽查属实")
    task.refresh_from_db()
    assert task.inspection_notes == "抽查属实"


def test_only_bureau_adds_tasks_and_only_in_scope(users, pairing_a):
    with pytest.raises(ValidationError) as exc:
        add_task(pairing_a, actor=users["street_a"])
    assert exc.value.messages == ["只有局机关工作人员可以添加驻街任务。"]
    task = add_task(pairing_a, actor=users["bureau"])
    with pytest.raises(ValidationError) as exc:
        services.liaison_task_save(actor=users["street_b"], pairing=pairing_a, task=task, status=LiaisonStatus.DONE)
    assert exc.value.messages == ["该结对不在您的管辖范围内。"]
    with pytest.raises(ValidationError):
        services.liaison_task_save(actor=users["leader"], pairing=pairing_a, task=task, status=LiaisonStatus.DONE)


def test_no_new_tasks_on_an_ended_pairing(users, tree, pairing_a):
    services.pairing_save(actor=users["bureau"], pairing=pairing_a, department="优抚科", street=tree["street_a"],
                          is_active=False)
    with pytest.raises(ValidationError) as exc:
        add_task(pairing_a, actor=users["bureau"])
    assert exc.value.messages == ["该结对已结束，不能再添加任务。"]


def test_task_changes_are_kept_in_history(users, pairing_a):
    task = add_task(pairing_a, actor=users["bureau"])
    services.liaison_task_save(actor=users["street_a"], pairing=pairing_a, task=task, status=LiaisonStatus.IN_PROGRESS)
    assert list(task.events.order_by("pgh_id").values_list("status", flat=True)) == ["planned", "in_progress"]


# --- copying a month -----------------------------------------------------------------------------


def test_month_copy_carries_open_items_once(users, pairing_a, pairing_b):
    add_task(pairing_a, month=LAST_MONTH, item="未开始", due=LAST_MONTH.replace(day=31 if LAST_MONTH.month in
                                                                              (1, 3, 5, 7, 8, 10, 12) else 28),
             owner=users["street_a"])
    add_task(pairing_a, month=LAST_MONTH, item="进行中", status=LiaisonStatus.IN_PROGRESS, feedback="做了一半",
             due=services.month_shift(THIS_MONTH, 1))
    add_task(pairing_a, month=LAST_MONTH, item="已完成", status=LiaisonStatus.DONE)
    add_task(pairing_a, month=THIS_MONTH, item="进行中")  # already carried by hand
    add_task(pairing_b, month=LAST_MONTH, item="乙街道事项")

    assert services.liaison_month_copy(actor=users["bureau"], pairing=pairing_a, to_month=THIS_MONTH) == 1
    assert services.liaison_month_copy(actor=users["bureau"], pairing=pairing_a, to_month=THIS_MONTH) == 0
    copies = {t.item: t for t in LiaisonTask.objects.filter(pairing=pairing_a, month=THIS_MONTH)}
    assert set(copies) == {"未开始", "进行中"}
    copy = copies["未开始"]
    assert copy.owner == users["street_a"] and copy.status == LiaisonStatus.PLANNED and copy.feedback == ""
    assert copy.due_date.month == THIS_MONTH.month and copy.due_date >= THIS_MONTH
    assert not LiaisonTask.objects.filter(pairing=pairing_b, month=THIS_MONTH).exists()


def test_month_copy_keeps_status_and_a_later_due_date(users, pairing_a):
    later = services.month_shift(THIS_MONTH, 1).replace(day=5)
    add_task(pairing_a, month=LAST_MONTH, item="进行中", status=LiaisonStatus.IN_PROGRESS, due=later)
    services.liaison_month_copy(actor=users["bureau"], pairing=pairing_a, to_month=THIS_MONTH)
    copy = LiaisonTask.objects.get(pairing=pairing_a, month=THIS_MONTH)
    assert (copy.status, copy.due_date) == (LiaisonStatus.IN_PROGRESS, later)


def test_month_copy_is_for_bureau_staff(users, pairing_a):
    add_task(pairing_a, month=LAST_MONTH)
    with pytest.raises(ValidationError):
        services.liaison_month_copy(actor=users["street_a"], pairing=pairing_a, to_month=THIS_MONTH)
    assert not LiaisonTask.objects.filter(month=THIS_MONTH).exists()


# --- selectors: scope and the monthly summary ----------------------------------------------------


def test_pairing_scope(users, pairing_a, pairing_b):
    def seen(who):
        return set(selectors.pairing_list(user=users[who]).values_list("department", flat=True))

    assert seen("bureau") == seen("leader") == {"优抚科", "安置科"}
    assert seen("street_a") == {"优抚科"}
    assert seen("street_b") == {"安置科"}
    assert seen("village_a1") == set()  # a street's pairing lies above a village's area
    assert seen("enterprise") == set()


@pytest.fixture
def month_of_work(users, pairing_a, pairing_b):
    """Last month: street A has two open items past due, one done late and one done early; street B one item due
    next month."""
    today = timezone.localdate()
    add_task(pairing_a, month=LAST_MONTH, item="未开始", due=LAST_MONTH.replace(day=5))
    add_task(pairing_a, month=LAST_MONTH, item="进行中", due=LAST_MONTH.replace(day=10),
             status=LiaisonStatus.IN_PROGRESS)
    late = add_task(pairing_a, month=LAST_MONTH, item="完成晚了", due=LAST_MONTH.replace(day=3))
    services.liaison_task_save(actor=users["street_a"], pairing=pairing_a, task=late, status=LiaisonStatus.DONE)
    add_task(pairing_a, month=LAST_MONTH, item="按时完成", due=today + timedelta(days=30), status=LiaisonStatus.DONE)
    add_task(pairing_b, month=LAST_MONTH, item="乙街道事项", due=today + timedelta(days=30))
    add_task(pairing_a, month=THIS_MONTH, item="本月事项", due=today + timedelta(days=30))


def test_monthly_summary_counts(users, tree, month_of_work):
    summary = selectors.liaison_month_summary(user=users["leader"], month=LAST_MONTH)
    assert [block.street.name for block in summary.streets] == ["甲街道", "乙街道"]
    street_a, street_b = summary.streets
    tally = street_a.tally
    assert (tally.total, tally.planned, tally.in_progress, tally.done, tally.overdue, tally.done_on_time) == (
        4, 1, 1, 2, 2, 1)
    assert tally.on_time_percent == 50 and tally.done_percent == 50
    assert [(row.pairing.department, row.tally.total) for row in street_a.rows] == [("优抚科", 4)]
    assert (street_b.tally.total, street_b.tally.overdue, street_b.tally.on_time_percent) == (1, 0, None)
    assert summary.tally.total == 5 and summary.tally.overdue == 2
    assert selectors.pairing_month_tally(user=users["street_a"], pairing=street_a.rows[0].pairing,
                                         month=LAST_MONTH) == tally


def test_monthly_summary_is_scoped(users, month_of_work):
    def streets(who):
        return [b.street.name for b in selectors.liaison_month_summary(user=users[who], month=LAST_MONTH).streets]

    assert streets("street_a") == ["甲街道"]
    assert streets("street_b") == ["乙街道"]
    assert streets("village_a1") == []
    assert selectors.liaison_month_summary(user=users["village_a1"], month=LAST_MONTH).tally.total == 0


def test_done_on_time_follows_the_latest_completion(users, pairing_a):
    task = add_task(pairing_a, month=LAST_MONTH, due=LAST_MONTH.replace(day=2), status=LiaisonStatus.DONE)
    assert task.completed_on == timezone.localdate()
    task = services.liaison_task_save(actor=users["bureau"], pairing=pairing_a, task=task,
                                      status=LiaisonStatus.IN_PROGRESS)
    assert task.completed_on is None
    task = services.liaison_task_save(actor=users["bureau"], pairing=pairing_a, task=task, status=LiaisonStatus.DONE)
    assert task.completed_on == timezone.localdate()
    assert selectors.pairing_month_tally(user=users["bureau"], pairing=pairing_a, month=LAST_MONTH).done_on_time == 0


def test_an_ended_pairing_shows_only_in_months_with_items(users, tree, pairing_a, pairing_b):
    add_task(pairing_b, month=LAST_MONTH, item="乙街道事项")
    services.pairing_save(actor=users["bureau"], pairing=pairing_b, department="安置科", street=tree["street_b"],
                          is_active=False)
    assert [b.street.name for b in selectors.liaison_month_summary(user=users["bureau"], month=LAST_MONTH).streets] \
        == ["甲街道", "乙街道"]
    assert [b.street.name for b in selectors.liaison_month_summary(user=users["bureau"], month=THIS_MONTH).streets] \
        == ["甲街道"]


# --- pages ---------------------------------------------------------------------------------------


def test_pairing_page_scope(client, users, pairing_a):
    task = add_task(pairing_a, actor=users["bureau"])
    url = reverse("liaison:pairing_detail", args=[pairing_a.pk])
    for who, status in [("street_a", 200), ("bureau", 200), ("leader", 200), ("street_b", 404),
                        ("village_a1", 403), ("village_b1", 403), ("enterprise", 403)]:
        client.logout()
        login(client, users[who])
        response = client.get(url)
        assert response.status_code == status, who
        if status == 200:
            assert task.item in response.content.decode()


def test_pairing_list_shows_only_what_the_user_sees(client, users, pairing_a, pairing_b):
    login(client, users["street_a"])
    page = client.get(reverse("liaison:pairing_list")).content.decode()
    assert "优抚科" in page and "安置科" not in page
    assert 'data-nav="liaison"' in page  # the liaison app's own menu entry
    client.logout()
    login(client, users["village_a1"])  # villages have no liaison work: no menu entry, no page
    assert client.get(reverse("liaison:pairing_list")).status_code == 403
    assert 'data-nav="liaison"' not in client.get(reverse("care:worklist")).content.decode()


def test_bureau_creates_a_pairing_and_a_task(client, users, tree):
    login(client, users["bureau"])
    response = client.post(reverse("liaison:pairing_create"),
                           {"department": "就业创业科", "street": tree["street_a"].pk, "members": [users["bureau"].pk],
                            "is_active": "on"})
    pairing = LiaisonPairing.objects.get(department="就业创业科")
    assert response.status_code == 302 and response["Location"] == reverse("liaison:pairing_detail", args=[pairing.pk])
    response = client.post(reverse("liaison:task_create", args=[pairing.pk]),
                           {"month": f"{THIS_MONTH:%Y-%m}", "item": "收集拥军岗位", "owner": users["street_a"].pk,
                            "due_date": THIS_MONTH.replace(day=25).isoformat(), "status": "planned",
                            "inspection_notes": "待督查"})
    assert response.status_code == 302 and f"month={THIS_MONTH:%Y-%m}" in response["Location"]
    task = LiaisonTask.objects.get(pairing=pairing)
    assert (task.item, task.owner, task.inspection_notes) == ("收集拥军岗位", users["street_a"], "待督查")


def test_task_form_shows_service_errors_on_fields(client, users, pairing_a):
    login(client, users["bureau"])
    response = client.post(reverse("liaison:task_create", args=[pairing_a.pk]),
                           {"month": f"{THIS_MONTH:%Y-%m}", "item": "事项", "due_date": LAST_MONTH.isoformat(),
                            "status": "planned"})
    assert response.status_code == 200
    assert "截止日期早于任务所属月份" in response.content.decode()
    assert not LiaisonTask.objects.exists()


def test_street_staff_report_through_the_page(client, users, pairing_a):
    task = add_task(pairing_a, actor=users["bureau"], inspection_notes="原督查意见")
    login(client, users["street_a"])
    url = reverse("liaison:task_edit", args=[task.pk])
    page = client.get(url).content.decode()
    assert 'name="status"' in page and 'name="feedback"' in page
    assert 'name="inspection_notes"' not in page and 'name="item"' not in page
    response = client.post(url, {"status": "done", "feedback": "已完成走访", "inspection_notes": "篡改", "item": "改",
                                 "version": any_version(task)})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.feedback, task.inspection_notes, task.item) == (
        "done", "已完成走访", "原督查意见", "走访重点优抚对象")


def test_village_staff_cannot_open_a_task(client, users, pairing_a):
    task = add_task(pairing_a, actor=users["bureau"])
    login(client, users["village_a1"])
    assert client.get(reverse("liaison:task_edit", args=[task.pk])).status_code == 403


def test_copy_button(client, users, pairing_a):
    add_task(pairing_a, month=LAST_MONTH, item="上月未完成")
    login(client, users["bureau"])
    page = client.get(reverse("liaison:pairing_detail", args=[pairing_a.pk]), {"month": f"{THIS_MONTH:%Y-%m}"})
    assert 'id="copy-form"' in page.content.decode() and "data-confirm" in page.content.decode()
    url = reverse("liaison:pairing_copy", args=[pairing_a.pk])
    response = client.post(url, {"month": f"{THIS_MONTH:%Y-%m}"})
    assert response.status_code == 302
    response = client.post(url, {"month": f"{THIS_MONTH:%Y-%m}"}, follow=True)
    assert "无需复制" in response.content.decode()
    assert LiaisonTask.objects.filter(pairing=pairing_a, month=THIS_MONTH, item="上月未完成").count() == 1


def test_month_switcher(client, users, pairing_a):
    add_task(pairing_a, month=LAST_MONTH, item="上月事项")
    add_task(pairing_a, month=THIS_MONTH, item="本月事项")
    login(client, users["street_a"])
    url = reverse("liaison:pairing_detail", args=[pairing_a.pk])
    this = client.get(url).content.decode()
    assert "本月事项" in this and "上月事项" not in this
    last = client.get(url, {"month": f"{LAST_MONTH:%Y-%m}"}).content.decode()
    assert "上月事项" in last and "本月事项" not in last
    assert client.get(url, {"month": "not-a-month"}).status_code == 200  # falls back to this month


def test_summary_page_and_export(client, users, month_of_work):
    login(client, users["street_a"])
    page = client.get(reverse("liaison:summary"), {"month": f"{LAST_MONTH:%Y-%m}"}).content.decode()
    assert "甲街道" in page and "乙街道" not in page and "50%" in page
    response = client.get(reverse("liaison:summary_export"), {"month": f"{LAST_MONTH:%Y-%m}"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [tuple(c for c in row if c is not None) for row in sheet.iter_rows(values_only=True)]
    assert ("甲街道", "优抚科", 4, 1, 1, 2, 2, 0.5) in rows
    assert not any("乙街道" in row for row in rows)
    assert AccessLog.objects.filter(user=users["street_a"], action="export").count() == 1


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_summary_query_counts_stay_flat(client, users, tree, make_user, pairing_a):
    add_task(pairing_a, item="已完成", status=LiaisonStatus.DONE)
    login(client, users["leader"])
    params = {"month": f"{THIS_MONTH:%Y-%m}"}
    few = {name: _queries(client, reverse(name), params) for name in ("liaison:pairing_list", "liaison:summary")}
    for i in range(8):
        officer = make_user(Role.BUREAU_STAFF, tree["district"], f"officer{i}")
        pairing = services.pairing_save(actor=None, department=f"科室{i}", street=tree["street_b" if i % 2 else "street_a"],
                                        members=[officer, users["bureau"]])
        add_task(pairing, item=f"事项{i}", status=LiaisonStatus.DONE)
        add_task(pairing, item=f"事项{i}b")
    many = {name: _queries(client, reverse(name), params) for name in ("liaison:pairing_list", "liaison:summary")}
    assert many == few


def test_pairing_detail_query_count_is_flat(client, users, pairing_a):
    login(client, users["bureau"])
    url = reverse("liaison:pairing_detail", args=[pairing_a.pk])
    add_task(pairing_a, item="一", owner=users["street_a"], status=LiaisonStatus.DONE)
    few = _queries(client, url, {})
    for i in range(10):
        add_task(pairing_a, item=f"事项{i}", owner=users["bureau"], status=LiaisonStatus.DONE)
    assert _queries(client, url, {}) == few


def test_demo_seed_is_idempotent(users, tree):
    from apps.liaison import demo as demo_liaison

    first = demo_liaison.seed(io.StringIO())
    assert first > 0
    assert demo_liaison.seed(io.StringIO()) == 0
    assert set(LiaisonPairing.objects.values_list("street__name", flat=True)) == {"甲街道", "乙街道"}
    statuses = set(LiaisonTask.objects.values_list("status", flat=True))
    assert statuses == {LiaisonStatus.PLANNED, LiaisonStatus.IN_PROGRESS, LiaisonStatus.DONE}
    assert set(LiaisonTask.objects.values_list("month", flat=True)) == {LAST_MONTH, THIS_MONTH}
