"""The campaign export: one row per community/village of the user's area (or of the unit drilled into) under a
merged two-row header, a totals row of sums whose completion rate is computed from the sums, the watermark in
the document properties, condolence money and goods from the campaign's visits (on the page too), an access-log
entry, and 404 for a unit outside the user's area."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from apps.care import selectors
from apps.care.models import Campaign, Visit, VisitRule
from apps.core.models import AccessLog
from tests.care.helpers_pages import ensure_care_seed, make_task
from tests.conftest import login
from tests.registry.factories import make_veteran

pytestmark = pytest.mark.django_db

DUE = date(2027, 2, 9)
HEADER, FIRST = 4, 6  # title, watermark and filters lines above; two header rows


@pytest.fixture
def campaign(tree) -> Campaign:
    """甲一社区: 3 tasks, 2 visited (one late; 200 yuan with goods, 100.50 yuan without); 甲二村: 1 visited with
    goods, no money; 乙一社区: 1 open, 1 cancelled (not counted); 甲街道 itself: 1 open task."""
    ensure_care_seed()
    rule = VisitRule.objects.get(name="春节走访重点优抚对象")
    campaign = Campaign.objects.create(name="2027 春节走访", rule=rule, period_key="2027",
                                       starts_on=date(2027, 1, 20), ends_on=DUE)

    def visited(unit, *, money, goods, late=False):
        person = make_veteran(tree[unit], name=f"{unit}老兵")
        on = DUE + timedelta(days=3) if late else DUE - timedelta(days=1)
        visit = Visit.objects.create(veteran=person, org_unit=tree[unit], occasion=rule.occasion, date=on,
                                     visitors="专干", money=money, goods=goods)
        make_task(person, rule=rule, campaign=campaign, due=DUE, status="done", visit=visit, completed_on=on)

    visited("village_a1", money=Decimal("200"), goods="米面油一份")
    visited("village_a1", money=Decimal("100.50"), goods="", late=True)
    make_task(make_veteran(tree["village_a1"]), rule=rule, campaign=campaign, due=DUE)
    visited("village_a2", money=None, goods="慰问信")
    make_task(make_veteran(tree["village_b1"]), rule=rule, campaign=campaign, due=DUE)
    make_task(make_veteran(tree["village_b1"]), rule=rule, campaign=campaign, due=DUE, status="cancelled")
    make_task(make_veteran(tree["street_a"]), rule=rule, campaign=campaign, due=DUE)
    return campaign


def export(client, campaign, **params):
    response = client.get(reverse("care:campaign_export", args=[campaign.pk]), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content), data_only=True)


def table(sheet) -> list[tuple]:
    """The data rows and the totals row (cached values of the sum formulas)."""
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=FIRST)]


def test_bureau_export_has_every_street_with_its_villages_and_totals_from_sums(client, users, campaign):
    login(client, users["bureau"])
    book = export(client, campaign)
    sheet = book.active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A4:B4", "C4:F4", "G4:G5", "H4:I4"}
    assert [c.value for c in sheet[HEADER]] == ["单位", None, "进度", None, None, None, "逾期完成", "慰问", None]
    assert [c.value for c in sheet[HEADER + 1]] == ["街道/镇", "社区/村", "任务", "已走访", "未走访", "完成率", None,
                                                    "慰问金（元）", "慰问品（件/份）"]
    *rows, totals = table(sheet)
    assert rows == [
        ("甲街道", "甲街道", 1, 0, 1, 0, 0, 0, 0),  # a person registered at the street itself
        ("甲街道", "甲一社区", 3, 2, 1, pytest.approx(2 / 3), 1, 300.5, 1),
        ("甲街道", "甲二村", 1, 1, 0, 1, 0, 0, 1),
        ("乙街道", "乙一社区", 1, 0, 1, 0, 0, 0, 0),
    ]
    assert totals[0] == "合计"
    for col in (2, 3, 4, 6, 7, 8):
        assert totals[col] == sum(row[col] for row in rows)
    # the rate of the sums (3 of 6 visited), not the sum of the rates
    assert totals[5] == pytest.approx(3 / 6)
    assert sheet.cell(FIRST + len(rows), 6).number_format == "0%"
    # watermark: who, and the campaign and the unit, in the document properties
    assert users["bureau"].username in book.properties.creator
    assert "走访活动：2027 春节走访" in book.properties.keywords and "单位：全部区域" in book.properties.keywords
    custom = {prop.name: prop.value for prop in book.custom_doc_props.props}
    assert users["bureau"].username in custom["exported_by"] and "2027 春节走访" in custom["filters"]


def test_street_user_gets_only_its_villages_and_the_export_is_logged(client, users, tree, campaign):
    login(client, users["street_a"])
    book = export(client, campaign)
    *rows, totals = table(book.active)
    assert [row[:2] for row in rows] == [("甲街道", "甲街道"), ("甲街道", "甲一社区"), ("甲街道", "甲二村")]
    assert totals[2:5] == (5, 3, 2) and totals[5] == pytest.approx(3 / 5)
    assert "单位：甲街道" in book.properties.keywords
    entry = AccessLog.objects.get(user=users["street_a"], action="export")
    assert entry.object_id == str(campaign.pk) and entry.object_repr == "2027 春节走访"
    assert entry.detail == {"kind": "campaign_progress", "unit": tree["street_a"].pk, "rows": 3}


def test_village_user_gets_its_own_village(client, users, campaign):
    login(client, users["village_a2"])
    *rows, _totals = table(export(client, campaign).active)
    assert rows == [("甲街道", "甲二村", 1, 1, 0, 1, 0, 0, 1)]


def test_drilled_in_unit_is_exported_and_outside_the_area_is_404(client, users, tree, campaign):
    login(client, users["bureau"])
    *rows, _totals = table(export(client, campaign, unit=tree["street_b"].pk).active)
    assert [row[:2] for row in rows] == [("乙街道", "乙一社区")]
    login(client, users["street_a"])
    url = reverse("care:campaign_export", args=[campaign.pk])
    assert client.get(url, {"unit": tree["street_b"].pk}).status_code == 404
    assert client.get(url, {"unit": "x"}).status_code == 404
    assert client.get(reverse("care:campaign_export", args=[campaign.pk + 1000])).status_code == 404
    assert not AccessLog.objects.filter(user=users["street_a"], action="export").exists()


def test_export_rows_take_a_fixed_number_of_queries(users, tree, campaign, django_assert_num_queries):
    user = users["bureau"]
    assert user.sees_whole_district  # the roles are read once per request, before the view runs
    with django_assert_num_queries(4):
        rows = selectors.campaign_village_rows(user=user, campaign=campaign)
    assert len(rows) == 4


def test_page_shows_money_goods_totals_and_the_export_button(client, users, tree, campaign):
    login(client, users["bureau"])
    response = client.get(reverse("care:campaign_detail", args=[campaign.pk]))
    rows = {row["unit"].name: (row["money"], row["goods"]) for row in response.context["rows"]}
    assert rows == {"甲街道": (Decimal("300.50"), 2), "乙街道": (Decimal(0), 0)}
    html = response.content.decode()
    assert 'data-money="300.50"' in html and 'id="campaign-totals"' in html
    assert f'href="{reverse("care:campaign_export", args=[campaign.pk])}"' in html and "导出 Excel" in html
    drilled = client.get(reverse("care:campaign_detail", args=[campaign.pk]), {"unit": tree["street_a"].pk})
    assert f'{reverse("care:campaign_export", args=[campaign.pk])}?unit={tree["street_a"].pk}' in drilled.content.decode()
