"""Care pages: the worklist and its scoping, logging a visit from a task, validation shown on the fields,
life events, rules, calendar, campaigns, and a worklist whose query count does not grow with its tasks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.care.models import Campaign, DueVisit, LifeEvent, Occasion, Visit, VisitRule
from tests.care.helpers_pages import contact_rule, ensure_care_seed, make_task, png_bytes
from tests.conftest import login
from tests.registry.factories import make_veteran
from tests.versions import any_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def care_seed(roles):
    ensure_care_seed()


@pytest.fixture
def people(tree):
    return {
        "a1": make_veteran(tree["village_a1"], name="甲一老兵"),
        "a2": make_veteran(tree["village_a2"], name="甲二老兵"),
        "b1": make_veteran(tree["village_b1"], name="乙一老兵"),
    }


def worklist_names(client, **params) -> list[str]:
    response = client.get(reverse("care:worklist"), params)
    assert response.status_code == 200
    body = response.content.decode()
    table = body[body.index('id="worklist-results"'):]
    return re.findall(r'\?tab=visits">([^<]+)</a>', table)


def tab_count(response, view: str) -> int:
    match = re.search(rf'data-count="{view}">(\d+)', response.content.decode())
    return int(match.group(1))


# --- worklist and scoping ---------------------------------------------------------------------------


def test_village_sees_only_its_own_tasks(client, users, people):
    for person in people.values():
        make_task(person)
    login(client, users["village_a1"])
    assert worklist_names(client) == ["甲一老兵"]


def test_street_sees_its_villages_and_filters_by_unit(client, users, tree, people):
    for person in people.values():
        make_task(person)
    login(client, users["street_a"])
    assert sorted(worklist_names(client)) == ["甲一老兵", "甲二老兵"]
    assert worklist_names(client, unit=tree["village_a2"].pk) == ["甲二老兵"]
    # A unit outside the street is not a choice: the filter is ignored, nothing of street B shows.
    assert "乙一老兵" not in worklist_names(client, unit=tree["village_b1"].pk)


def test_tabs_count_and_show_overdue_and_escalation(client, users, tree):
    today = timezone.localdate()
    person = make_veteran(tree["village_a1"], name="到期老兵")
    make_task(person, due=today)
    make_task(make_veteran(tree["village_a1"], name="逾期老兵"), due=today - timedelta(days=5), level=1)
    make_task(make_veteran(tree["village_a1"], name="将来老兵"), due=today + timedelta(days=40))
    make_task(make_veteran(tree["village_a1"], name="已走访老兵"), due=today - timedelta(days=1), status="done")
    make_task(make_veteran(tree["village_a1"], name="未开始老兵"), due=today + timedelta(days=60),
              opens_on=today + timedelta(days=30))
    login(client, users["street_a"])
    response = client.get(reverse("care:worklist"))
    assert tab_count(response, "open") == 3  # not yet open is not counted
    assert tab_count(response, "today") == 1
    assert tab_count(response, "overdue") == 1
    assert tab_count(response, "escalated") == 1
    assert tab_count(response, "done") == 1
    assert worklist_names(client, view="today") == ["到期老兵"]
    assert worklist_names(client, view="overdue") == ["逾期老兵"]
    assert worklist_names(client, view="escalated") == ["逾期老兵"]
    assert worklist_names(client, view="done") == ["已走访老兵"]
    body = client.get(reverse("care:worklist"), {"view": "overdue"}).content.decode()
    assert 'data-overdue="5"' in body
    assert 'data-escalated="1"' in body
    # Village stations have no "escalated to me" list: their own tasks are theirs anyway.
    login(client, users["village_a1"])
    assert worklist_names(client, view="escalated") == []


def test_tab_counts_stop_at_the_cap(client, users, tree, monkeypatch):
    from apps.care import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for n in range(3):
        make_task(make_veteran(tree["village_a1"], name=f"老兵{n}"))
    login(client, users["street_a"])
    body = client.get(reverse("care:worklist")).content.decode()
    assert 'data-count="open">2+<' in body and 'data-count="done">0<' in body


def test_filter_by_occasion_and_due_date(client, users, tree):
    today = timezone.localdate()
    spring = VisitRule.objects.get(name="春节走访重点优抚对象")
    make_task(make_veteran(tree["village_a1"], name="联系老兵"), due=today + timedelta(days=2))
    make_task(make_veteran(tree["village_a1"], name="春节老兵"), due=today + timedelta(days=50),
              opens_on=today + timedelta(days=30), rule=spring)
    login(client, users["village_a1"])
    contact = Occasion.objects.get(code="contact")
    assert worklist_names(client, occasion=contact.pk) == ["联系老兵"]
    assert worklist_names(client, occasion=spring.occasion.pk) == []  # not open yet
    # From the calendar: a due date shows that day's tasks, open yet or not.
    due = (today + timedelta(days=50)).isoformat()
    assert worklist_names(client, due=due) == ["春节老兵"]


def test_htmx_request_renders_the_body_only(client, users, people):
    make_task(people["a1"])
    login(client, users["village_a1"])
    response = client.get(reverse("care:worklist"), {"view": "open"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="worklist-results"' in body and "<html" not in body


def test_keyset_paging(client, users, tree):
    today = timezone.localdate()
    person = make_veteran(tree["village_a1"], name="翻页老兵")
    for i in range(55):
        make_task(person, due=today - timedelta(days=i % 7))
    login(client, users["village_a1"])
    first = client.get(reverse("care:worklist")).content.decode()
    assert first.count('data-task="') == 50
    cursor = re.search(r'id="page-next" href="\?[^"]*after=([^"&]+)', first).group(1)
    second = client.get(reverse("care:worklist") + f"?view=open&after={cursor}").content.decode()
    assert second.count('data-task="') == 5
    seen_first = set(re.findall(r'data-task="(\d+)"', first))
    assert not seen_first & set(re.findall(r'data-task="(\d+)"', second))
    # A forged cursor is ignored (first page), never an error.
    assert client.get(reverse("care:worklist"), {"after": "forged"}).status_code == 200


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_worklist_query_count_does_not_grow_with_tasks(client, users, tree, django_assert_max_num_queries):
    login(client, users["street_a"])
    url = reverse("care:worklist") + "?view=open"
    person = make_veteran(tree["village_a1"], name="计数老兵")
    make_task(person)
    few = _queries(client, url)
    for i in range(40):
        make_task(make_veteran(tree["village_a2" if i % 2 else "village_a1"], name=f"老兵{i}"),
                  due=timezone.localdate() - timedelta(days=i % 9), level=i % 3)
    many = _queries(client, url)
    assert many == few
    # Session, user, second factor (2), roles, permissions (2), unit, unread count, breadcrumb; then six capped
    # tab counts (each stops at 10,001 on an index), the page, the occasion and unit choices.
    with django_assert_max_num_queries(19):
        client.get(url)


# --- logging a visit ------------------------------------------------------------------------------


def visit_post(occasion: Occasion, **changes) -> dict:
    return {"occasion": occasion.pk, "date": timezone.localdate().isoformat(), "mode": "home",
            "visitors": "王专干、李书记", "content": "了解身体情况", "needs": "", "help_given": "送慰问金",
            "money": "500", "goods": "米、油", "follow_up": "", **changes}


def test_log_visit_from_the_worklist_closes_the_task(client, users, people):
    task = make_task(people["a1"])
    login(client, users["village_a1"])
    form = client.get(reverse("care:visit_create_for_task", args=[task.pk]) + "?next=/care/worklist/%3Fview%3Dopen")
    assert form.status_code == 200
    html = form.content.decode()
    assert f'<option value="{task.occasion_id}" selected>' in html  # prefilled from the task
    assert "甲一老兵" in html
    photos = [SimpleUploadedFile("a.png", png_bytes("red"), "image/png"),
              SimpleUploadedFile("b.jpg", png_bytes("blue"), "image/jpeg")]
    response = client.post(reverse("care:visit_create_for_task", args=[task.pk]),
                           {**visit_post(task.occasion), "photos": photos, "next": "/care/worklist/?view=open"})
    assert response.status_code == 302 and response["Location"] == "/care/worklist/?view=open"
    task.refresh_from_db()
    assert task.status == "done" and task.visit is not None
    visit = task.visit
    assert visit.created_by == users["village_a1"] and visit.money == 500 and visit.photos.count() == 2
    assert worklist_names(client) == []
    assert worklist_names(client, view="done") == ["甲一老兵"]
    # The visit page shows its photos through the scoped view.
    detail = client.get(reverse("care:visit_detail", args=[visit.pk])).content.decode()
    assert detail.count('class="img-fluid rounded border visit-photo"') == 2
    photo = visit.photos.first()
    served = client.get(reverse("care:visit_photo", args=[visit.pk, photo.pk]))
    assert served.status_code == 200 and served["Content-Type"] in ("image/png", "image/jpeg")
    assert b"".join(served.streaming_content)[:4] in (b"\x89PNG",)
    login(client, users["village_a2"])
    assert client.get(reverse("care:visit_photo", args=[visit.pk, photo.pk])).status_code == 404
    assert client.get(reverse("care:visit_detail", args=[visit.pk])).status_code == 404


def test_a_closed_task_sends_back_to_the_worklist(client, users, people):
    task = make_task(people["a1"], status="done")
    login(client, users["village_a1"])
    response = client.get(reverse("care:visit_create_for_task", args=[task.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("care:worklist")


def test_foreign_next_is_ignored(client, users, people):
    task = make_task(people["a1"])
    login(client, users["village_a1"])
    response = client.post(reverse("care:visit_create_for_task", args=[task.pk]),
                           {**visit_post(task.occasion), "next": "https://evil.example/"})
    assert response["Location"] == reverse("care:worklist")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"date": (timezone.localdate() + timedelta(days=1)).isoformat()}, "date", "日期不能晚于今天。"),
    ({"date": "1950-01-01"}, "date", None),  # before the person's birth (1980)
    ({"money": "-5"}, "money", None),
    ({"visitors": "  "}, "visitors", None),
    ({"date": "2025-13-40"}, "date", None),
])
def test_visit_errors_are_shown_on_their_fields(client, users, people, changes, field, message):
    occasion = Occasion.objects.get(code="contact")
    login(client, users["village_a1"])
    response = client.post(reverse("care:visit_create", args=[people["a1"].pk]), visit_post(occasion, **changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    if message:
        assert message in form.errors[field]
    assert not Visit.objects.exists()


def test_a_renamed_non_image_is_refused(client, users, people):
    occasion = Occasion.objects.get(code="contact")
    login(client, users["village_a1"])
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", "image/jpeg")
    response = client.post(reverse("care:visit_create", args=[people["a1"].pk]),
                           {**visit_post(occasion), "photos": [fake]})
    assert response.status_code == 200 and "photos" in response.context["form"].errors
    gif = SimpleUploadedFile("photo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif")
    response = client.post(reverse("care:visit_create", args=[people["a1"].pk]),
                           {**visit_post(occasion), "photos": [gif]})
    assert "photos" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_family_member_choices_are_that_persons_only(client, users, people):
    from apps.registry import services as registry_services
    from tests.registry.factories import id_number

    own = registry_services.family_member_save(actor=None, veteran=people["a1"], name="本人家属",
                                               id_number=id_number("19850505"))
    other = registry_services.family_member_save(actor=None, veteran=people["a2"], name="别人家属",
                                                 id_number=id_number("19860606"))
    login(client, users["street_a"])
    html = client.get(reverse("care:visit_create", args=[people["a1"].pk])).content.decode()
    assert "本人家属" in html and "别人家属" not in html
    occasion = Occasion.objects.get(code="contact")
    response = client.post(reverse("care:visit_create", args=[people["a1"].pk]),
                           visit_post(occasion, family_member=other.pk))
    assert "family_member" in response.context["form"].errors
    response = client.post(reverse("care:visit_create", args=[people["a1"].pk]),
                           visit_post(occasion, family_member=own.pk))
    assert response.status_code == 302 and Visit.objects.get().family_member == own


def test_cancel_a_task(client, users, people):
    task = make_task(people["a1"])
    login(client, users["village_a1"])
    response = client.post(reverse("care:task_cancel", args=[task.pk]),
                           {"reason": "已迁往外地", "next": "/care/worklist/?view=today"})
    assert response.status_code == 302 and response["Location"] == "/care/worklist/?view=today"
    task.refresh_from_db()
    assert (task.status, task.cancel_reason, task.closed_by) == ("cancelled", "已迁往外地", users["village_a1"])
    assert worklist_names(client) == []
    login(client, users["village_a2"])
    assert client.post(reverse("care:task_cancel", args=[task.pk])).status_code == 404


def test_cancel_button_asks_for_confirmation(client, users, people):
    make_task(people["a1"])
    login(client, users["village_a1"])
    html = client.get(reverse("care:worklist")).content.decode()
    # Each row's button aims the page's one cancel form at its task and names the person in the question.
    assert re.search(r'data-action="cancel-task" data-cancel-url="/care/tasks/\d+/cancel/" data-confirm="[^"]+甲一老兵', html)
    assert html.count('id="cancel-task-form"') == 1


# --- life events and the person tab -------------------------------------------------------------------


def test_life_event_gives_a_must_visit_task(client, users, people, django_capture_on_commit_callbacks):
    login(client, users["village_a1"])
    hospital = Occasion.objects.get(code="hospitalised")
    form = client.get(reverse("care:event_create", args=[people["a1"].pk])).content.decode()
    assert "生病住院" in form and "春节走访" not in form  # life events only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("care:event_create", args=[people["a1"].pk]),
                               {"occasion": hospital.pk, "date": timezone.localdate().isoformat(),
                                "description": "脑梗住院"})
    assert response.status_code == 302
    assert response["Location"] == people["a1"].get_absolute_url() + "?tab=visits"
    assert LifeEvent.objects.get().created_by == users["village_a1"]
    # The recompute also gives the person the tasks of the other rules (the yearly contact).
    task = DueVisit.objects.get(veteran=people["a1"], status="open", rule__kind="after_event")
    assert task.occasion.code == "must_visit" and task.due_date == timezone.localdate() + timedelta(days=3)
    assert worklist_names(client, occasion=task.occasion_id) == ["甲一老兵"]
    tab = client.get(people["a1"].get_absolute_url(), {"tab": "visits"}).content.decode()
    assert "脑梗住院" in tab and 'id="person-open-tasks"' in tab
    assert reverse("care:visit_create_for_task", args=[task.pk]) in tab


def test_life_event_in_the_future_is_refused(client, users, people):
    login(client, users["village_a1"])
    hospital = Occasion.objects.get(code="hospitalised")
    response = client.post(reverse("care:event_create", args=[people["a1"].pk]),
                           {"occasion": hospital.pk, "date": (timezone.localdate() + timedelta(days=2)).isoformat()})
    assert "日期不能晚于今天。" in response.context["form"].errors["date"]


def test_person_tab_lists_visits_and_buttons(client, users, people):
    occasion = Occasion.objects.get(code="contact")
    login(client, users["village_a1"])
    client.post(reverse("care:visit_create", args=[people["a1"].pk]), visit_post(occasion))
    html = client.get(people["a1"].get_absolute_url(), {"tab": "visits"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="person-log-visit"' in html and 'id="person-log-event"' in html
    assert "王专干、李书记" in html
    login(client, users["leader"])  # reads, does not log
    html = client.get(people["a1"].get_absolute_url(), {"tab": "visits"}, HTTP_HX_REQUEST="true").content.decode()
    assert "王专干、李书记" in html and 'id="person-log-visit"' not in html


# --- rules ------------------------------------------------------------------------------------------


def rule_post(**changes) -> dict:
    data = {"name": "测试规则", "kind": "interval", "occasion": Occasion.objects.get(code="contact").pk,
            "interval_months": "6", "everyone": "on", "lead_days": "0", "escalate_street_days": "7",
            "escalate_bureau_days": "30", "is_active": "on"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(("changes", "field"), [
    ({"everyone": None}, "everyone"),  # no selector
    ({"interval_months": "-3"}, "interval_months"),
    ({"interval_months": "5"}, "interval_months"),
    ({"kind": "festival", "calendar": "lunar", "month": "1", "day": "31"}, "day"),
    ({"kind": "festival", "calendar": "", "month": "13", "day": "1"}, "month"),
    ({"kind": "after_event", "due_within_days": "3"}, "event_occasions"),
    ({"kind": "after_report", "due_within_days": "-1"}, "due_within_days"),
    ({"min_age": "80", "max_age": "60"}, "max_age"),
    ({"escalate_street_days": "30", "escalate_bureau_days": "7"}, "escalate_bureau_days"),
])
def test_rule_form_errors_on_fields(client, users, changes, field):
    login(client, users["admin"])
    response = client.post(reverse("care:rule_create"), rule_post(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not VisitRule.objects.filter(name="测试规则").exists()


def test_rule_create_with_selectors_and_edit(client, users, tree, django_capture_on_commit_callbacks):
    from apps.registry.models import Code

    login(client, users["admin"])
    disabled = Code.objects.get(kind="care_category", name="残疾军人")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("care:rule_create"), rule_post(
            everyone=None, care_categories=[disabled.pk], org_units=[tree["street_a"].pk], min_age="60"))
    assert response.status_code == 302, response.context["form"].errors
    rule = VisitRule.objects.get(name="测试规则")
    assert list(rule.care_categories.all()) == [disabled] and list(rule.org_units.all()) == [tree["street_a"]]
    edit = client.get(reverse("care:rule_edit", args=[rule.pk])).content.decode()
    assert re.search(rf'value="{disabled.pk}"[^>]*checked', edit)
    response = client.post(reverse("care:rule_edit", args=[rule.pk]), {**rule_post(
        everyone=None, care_categories=[disabled.pk], interval_months="12"), "version": any_version(rule)})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.interval_months == 12 and not rule.org_units.exists()
    listing = client.get(reverse("care:rule_list")).content.decode()
    assert "测试规则" in listing


def test_rule_toggle(client, users):
    rule = contact_rule()
    login(client, users["admin"])
    assert client.post(reverse("care:rule_toggle", args=[rule.pk])).status_code == 302
    rule.refresh_from_db()
    assert not rule.is_active
    client.post(reverse("care:rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.is_active
    login(client, users["bureau"])
    assert client.post(reverse("care:rule_toggle", args=[rule.pk])).status_code == 403


def test_occasion_edit(client, users):
    occasion = Occasion.objects.get(code="other")
    login(client, users["admin"])
    response = client.post(reverse("care:occasion_edit", args=[occasion.pk]),
                           {"code": "other", "name": "其他慰问", "group": "other", "sort_order": "5", "is_active": "on",
                            "version": any_version(occasion)})
    assert response.status_code == 302
    occasion.refresh_from_db()
    assert occasion.name == "其他慰问"
    duplicate = client.post(reverse("care:occasion_create"),
                            {"code": "x1", "name": "其他慰问", "group": "other", "sort_order": "1"})
    assert "name" in duplicate.context["form"].errors


# --- calendar and campaigns ----------------------------------------------------------------------------


def test_calendar_counts_per_day_and_links_to_the_worklist(client, users, tree, people):
    day = date(2027, 1, 25)
    for _i in range(3):
        make_task(people["a1"], due=day, opens_on=day - timedelta(days=20))
    make_task(people["b1"], due=day, opens_on=day - timedelta(days=20))
    login(client, users["village_a1"])
    html = client.get(reverse("care:calendar"), {"month": "2027-01"}).content.decode()
    cell = re.search(r'data-date="2027-01-25">(.*?)</td>', html, re.S).group(1)
    assert "3" in cell and "due=2027-01-25" in cell
    assert 'href="?month=2026-12"' in html and 'href="?month=2027-02"' in html
    assert client.get(reverse("care:calendar"), {"month": "garbage"}).status_code == 200
    assert worklist_names(client, due="2027-01-25") == ["甲一老兵"] * 3


def test_campaign_progress_per_street_and_village(client, users, tree, people):
    rule = VisitRule.objects.get(name="春节走访重点优抚对象")
    campaign = Campaign.objects.create(name="2027 春节走访", rule=rule, period_key="2027",
                                       starts_on=date(2027, 1, 20), ends_on=date(2027, 2, 9))
    make_task(people["a1"], rule=rule, campaign=campaign, status="done")
    make_task(people["a1"], rule=rule, campaign=campaign)
    make_task(people["a2"], rule=rule, campaign=campaign, status="done")
    make_task(people["b1"], rule=rule, campaign=campaign)
    make_task(people["b1"], rule=rule, campaign=campaign, status="cancelled")  # not counted
    login(client, users["bureau"])
    listing = client.get(reverse("care:campaign_list")).content.decode()
    assert "2027 春节走访" in listing and 'data-percent="50"' in listing
    response = client.get(reverse("care:campaign_detail", args=[campaign.pk]))
    rows = {row["unit"].name: (row["total"], row["done"]) for row in response.context["rows"]}
    assert rows == {"甲街道": (3, 2), "乙街道": (1, 0)}
    village_rows = client.get(reverse("care:campaign_detail", args=[campaign.pk]), {"unit": tree["street_a"].pk})
    rows = {row["unit"].name: (row["total"], row["done"]) for row in village_rows.context["rows"]}
    assert rows == {"甲一社区": (2, 1), "甲二村": (1, 1)}
    # A street station starts at its own villages and cannot drill into another street.
    login(client, users["street_a"])
    response = client.get(reverse("care:campaign_detail", args=[campaign.pk]))
    assert {row["unit"].name for row in response.context["rows"]} == {"甲一社区", "甲二村"}
    assert client.get(reverse("care:campaign_detail", args=[campaign.pk]),
                      {"unit": tree["street_b"].pk}).status_code == 404
    assert client.get(reverse("care:campaign_detail", args=[campaign.pk]), {"unit": "x"}).status_code == 404


def test_navigation_entries_follow_permissions(client, users):
    login(client, users["village_a1"])
    html = client.get(reverse("care:worklist")).content.decode()
    assert 'data-nav="care_worklist"' in html and 'data-nav="care_rules"' not in html
    # The calendar and the campaigns are one click away in the worklist's header.
    assert reverse("care:calendar") in html and reverse("care:campaign_list") in html
    login(client, users["admin"])
    assert 'data-nav="care_rules"' in client.get(reverse("care:worklist")).content.decode()


def test_cancelling_needs_a_reason(client, users, people):
    task = make_task(people["a1"])
    login(client, users["village_a1"])
    response = client.post(reverse("care:task_cancel", args=[task.pk]), {"reason": " "}, follow=True)
    assert "请说明无需走访的原因" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open"


def test_visit_detail_and_photos_are_logged_on_the_person(client, users, people):
    """Issue 10, finding 9: reading a visit and its photos is a sensitive read, shown on the person's tab."""
    from django.contrib.contenttypes.models import ContentType

    from apps.core.models import AccessLog
    from apps.registry.models import Veteran

    task = make_task(people["a1"])
    login(client, users["village_a1"])
    client.post(reverse("care:visit_create_for_task", args=[task.pk]),
                {**visit_post(task.occasion), "photos": [SimpleUploadedFile("a.png", png_bytes("red"), "image/png")]})
    visit = Visit.objects.get(veteran=people["a1"])
    photo = visit.photos.get()
    login(client, users["street_a"])
    assert client.get(reverse("care:visit_detail", args=[visit.pk])).status_code == 200
    assert client.get(reverse("care:visit_photo", args=[visit.pk, photo.pk])).status_code == 200
    logged = AccessLog.objects.filter(content_type=ContentType.objects.get_for_model(Veteran),
                                      object_id=str(people["a1"].pk), user=users["street_a"]).order_by("id")
    assert [(e.action, e.detail) for e in logged] == [("view", {"visit": visit.pk}),
                                                      ("download", {"visit": visit.pk, "photo": photo.pk})]
    tab = client.get(reverse("registry:veteran_detail", args=[people["a1"].pk]), {"tab": "access"})
    assert "走访记录" in tab.content.decode() and "走访照片" in tab.content.decode()
    login(client, users["village_a2"])
    client.get(reverse("care:visit_detail", args=[visit.pk]))  # 404: nothing read, nothing logged
    assert not AccessLog.objects.filter(user=users["village_a2"]).exists()
