"""The liaison pages on the platform kits: the pairing list (filters, "全部", htmx table, xlsx export with the
table's columns), the month's task table, the form pages, accessibility basics and query budgets.

Query budgets are the counts measured before the pages moved onto the kits (street A's staff: the list 7, the
list filtered by street 8, a pairing's month 8; the leadership: the list 6; bureau staff: the pairing form 9)."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.choices import AccessAction
from apps.core.lists.filters import ALL
from apps.core.models import AccessLog
from apps.liaison import services
from apps.liaison.choices import LiaisonStatus
from apps.liaison.tables import PairingTable
from apps.liaison.views import PairingListView
from tests.conftest import login
from tests.core.test_accessibility import problems
from tests.liaison.conftest import LAST_MONTH, THIS_MONTH, add_task

pytestmark = pytest.mark.django_db

LIST = "liaison:pairing_list"


@pytest.fixture
def ended(users, tree):
    """An ended pairing in street A."""
    pairing = services.pairing_save(actor=users["bureau"], department="就业创业科", street=tree["street_a"])
    return services.pairing_save(actor=users["bureau"], pairing=pairing, department=pairing.department,
                                 street=pairing.street, is_active=False)


def _departments(client, **params) -> list[str]:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return [row.department for row in response.context["object_list"]]


def test_the_list_filters_by_street_department_and_state(client, users, tree, pairing_a, pairing_b, ended):
    login(client, users["leader"])
    assert _departments(client) == ["优抚科", "就业创业科", "安置科"]  # street path, then department
    assert _departments(client, street=tree["street_b"].pk) == ["安置科"]
    assert _departments(client, department="优抚") == ["优抚科"]
    assert _departments(client, state="active") == ["优抚科", "安置科"]
    assert _departments(client, state="ended") == ["就业创业科"]
    assert _departments(client, street=tree["street_a"].pk, state="active") == ["优抚科"]


def test_the_street_filter_offers_only_the_users_streets_and_all(client, users, tree, pairing_a, pairing_b):
    login(client, users["street_a"])
    response = client.get(reverse(LIST))
    choices = list(response.context["filter"].form.fields["street"].choices)
    assert [label for _value, label in choices] == [ALL, "甲街道"]
    assert [str(label) for _value, label in response.context["filter"].form.fields["state"].choices][0] == str(ALL)
    assert "<option value=\"\">全部</option>" in response.content.decode()
    assert _departments(client, street=tree["street_b"].pk) == ["优抚科"]  # not a choice: the filter is ignored


def test_the_list_shows_the_months_counts_and_keeps_the_month(client, users, pairing_a, ended):
    add_task(pairing_a, month=LAST_MONTH, item="上月完成", status=LiaisonStatus.DONE)
    add_task(pairing_a, month=LAST_MONTH, item="上月未完成")
    add_task(pairing_a, item="本月")
    login(client, users["bureau"])
    page = client.get(reverse(LIST), {"month": f"{LAST_MONTH:%Y-%m}"})
    html = page.content.decode()
    row = {p.department: (p.task_count, p.done_count) for p in page.context["object_list"]}
    assert row == {"优抚科": (2, 1), "就业创业科": (0, 0)}
    assert f"{LAST_MONTH:%Y-%m}任务数" in html  # the header names the month
    assert f'<input type="hidden" name="month" value="{LAST_MONTH:%Y-%m}">' in html  # the filter bar keeps it
    assert f'?month={LAST_MONTH:%Y-%m}">优抚科</a>' in html
    assert 'class="text-muted"' in html and "已结束" in html  # the ended pairing is marked
    this = client.get(reverse(LIST))
    assert {p.department: p.task_count for p in this.context["object_list"]}["优抚科"] == 1


def test_the_table_is_an_htmx_partial(client, users, pairing_a, pairing_b):
    login(client, users["leader"])
    response = client.get(reverse(LIST), {"department": "安置"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert 'id="pairing-table"' in html and "安置科" in html and "优抚科" not in html
    assert "<html" not in html and 'id="pairing-filter"' not in html
    # The month switcher comes with the table: switching the month keeps the filters just chosen.
    assert 'id="month-switcher"' in html and '<input type="hidden" name="department" value="安置">' in html
    assert "department=%E5%AE%89%E7%BD%AE" in html  # the arrows too


def test_the_list_pages_past_one_page(client, users, pairing_a, pairing_b, ended, monkeypatch):
    monkeypatch.setattr(PairingListView, "page_size", 2)
    login(client, users["leader"])
    first = client.get(reverse(LIST))
    assert len(first.context["object_list"]) == 2 and first.context["page"].paginator.count == 3
    assert _departments(client, page=2) == ["安置科"]


def test_the_export_has_the_tables_columns_is_scoped_and_logged(client, users, pairing_a, pairing_b):
    add_task(pairing_a, item="完成", status=LiaisonStatus.DONE)
    add_task(pairing_a, item="未完成")
    login(client, users["street_a"])
    page = client.get(reverse(LIST))
    assert 'id="list-export"' in page.content.decode()
    response = client.get(reverse(LIST), {"format": "xlsx", "month": f"{THIS_MONTH:%Y-%m}"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if any(row)]
    headers = [str(column.header) for column in PairingTable.export_columns()]
    index = next(i for i, row in enumerate(rows) if row[0] == headers[0])
    assert list(rows[index][: len(headers)]) == headers
    assert [row[: len(headers)] for row in rows[index + 1:]] == [("甲街道", "优抚科", "测试3", 2, 1)]
    entry = AccessLog.objects.filter(action=AccessAction.EXPORT).latest("created_at")
    assert entry.user == users["street_a"] and entry.detail["rows"] == 1


def test_the_export_needs_the_view_permission(client, users, pairing_a):
    login(client, users["village_a1"])
    assert client.get(reverse(LIST), {"format": "xlsx"}).status_code == 403


def test_the_month_task_table(client, users, pairing_a):
    today = timezone.localdate()
    late = add_task(pairing_a, item="逾期事项", due=today - timedelta(days=1), month=services.month_start(
        today - timedelta(days=1)), owner=users["street_a"], feedback="第一行\n第二行")
    url = reverse("liaison:pairing_detail", args=[pairing_a.pk])
    params = {"month": f"{late.month:%Y-%m}"}
    login(client, users["bureau"])
    html = client.get(url, params).content.decode()
    assert f'<tr id="task-{late.pk}">' in html and 'id="task-table"' in html
    assert "badge text-bg-danger" in html and "第一行<br>第二行" in html
    assert reverse("liaison:task_edit", args=[late.pk]) in html and "bi-pencil" in html
    client.logout()
    login(client, users["street_a"])
    html = client.get(url, params).content.decode()
    assert "bi-chat-left-text" in html and "bi-pencil" not in html  # a street station reports progress
    empty = client.get(url, {"month": f"{services.month_shift(late.month, 1):%Y-%m}"}).content.decode()
    assert "本月暂无任务。" in empty


def test_the_form_pages_keep_their_form_and_cancel_link(client, users, pairing_a):
    task = add_task(pairing_a)
    login(client, users["bureau"])
    for url, cancel in [
        (reverse("liaison:pairing_create"), reverse(LIST)),
        (reverse("liaison:pairing_edit", args=[pairing_a.pk]), reverse("liaison:pairing_detail", args=[pairing_a.pk])),
        (reverse("liaison:task_create", args=[pairing_a.pk]), reverse("liaison:pairing_detail", args=[pairing_a.pk])),
        (reverse("liaison:task_edit", args=[task.pk]), reverse("liaison:pairing_detail", args=[pairing_a.pk])),
    ]:
        html = client.get(url).content.decode()
        assert 'id="main-form"' in html and f'href="{cancel}' in html, url
        assert problems(html) == [], url
    client.logout()
    login(client, users["street_a"])
    html = client.get(reverse("liaison:task_edit", args=[task.pk])).content.decode()
    assert 'id="task-facts"' in html and 'name="version"' in html


def test_the_pages_meet_the_accessibility_basics(client, users, pairing_a):
    add_task(pairing_a, owner=users["street_a"])
    login(client, users["bureau"])
    for url in (reverse("liaison:pairing_detail", args=[pairing_a.pk]), reverse(LIST), reverse("liaison:summary")):
        html = client.get(url).content.decode()
        assert problems(html) == [], url
        assert 'aria-label="上个月"' in html and 'aria-label="下个月"' in html


def test_query_budgets_are_kept(client, users, tree, pairing_a, pairing_b, django_assert_max_num_queries):
    add_task(pairing_a, item="已完成", status=LiaisonStatus.DONE, owner=users["street_a"])
    add_task(pairing_a, item="未完成")
    login(client, users["street_a"])
    with django_assert_max_num_queries(7):
        client.get(reverse(LIST))
    with django_assert_max_num_queries(8):
        client.get(reverse(LIST), {"street": tree["street_a"].pk})
    with django_assert_max_num_queries(7):
        client.get(reverse(LIST), {"department": "优抚"}, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(8):
        client.get(reverse("liaison:pairing_detail", args=[pairing_a.pk]))
    client.logout()
    login(client, users["leader"])
    with django_assert_max_num_queries(6):
        client.get(reverse(LIST))
    client.logout()
    login(client, users["bureau"])
    with django_assert_max_num_queries(9):
        client.get(reverse("liaison:pairing_edit", args=[pairing_a.pk]))
