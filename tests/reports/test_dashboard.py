"""The leadership dashboard: every number shown equals the figure store's, comparisons, scope, bad periods, the
xlsx downloads and their access log, and a query count that does not grow with the figures or the units."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest
import tinyhtml5
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core import figures
from apps.core.choices import AccessAction
from apps.core.figures import Period
from apps.core.models import AccessLog
from apps.reports import dashboard
from tests.conftest import login
from tests.reports.dashboard_figures import installed

pytestmark = pytest.mark.django_db
URL = reverse("reports:dashboard")
MOMENT = int(datetime(2026, 3, 4, 5, 6, tzinfo=UTC).timestamp())


def _factors() -> dict[str, int]:
    """Each figure's rows are scaled by the period: the running quarter ×3, the one before ×2, a year ago ×1."""
    current = Period.current(figures.QUARTER)
    return {current.key: 3, current.previous().key: 2, current.same_last_year().key: 1}


def make_figures(tree) -> list[figures.Figure]:
    per_village = {"village_a1": 1, "village_a2": 2, "village_b1": 4}
    pks = {name: tree[name].pk for name in per_village}

    def scaled(period, rows):
        k = _factors().get(period.key, 0)
        return [(unit, bucket, value * k, None if base is None else base * k) for unit, bucket, value, base in rows]

    def veterans(period):
        return scaled(period, [(pks[n], "", 10 * v, None) for n, v in per_village.items()])

    def by_sex(period):
        return scaled(period, [row for n, v in per_village.items()
                               for row in ((pks[n], "", 3 * v, None), (pks[n], "M", 2 * v, None), (pks[n], "F", v, None))])

    def completeness(period):  # a1 1/2, a2 2/2, b1 1/4
        return scaled(period, [(pks["village_a1"], "", 1, 2), (pks["village_a2"], "", 2, 2), (pks["village_b1"], "", 1, 4)])

    def last_update(period):
        return [(pks[n], "", MOMENT + 3600 * v, None) for n, v in per_village.items()]

    def visits(period):
        return scaled(period, [(pks[n], "", 5 * v, None) for n, v in per_village.items()])

    def money(period):
        return scaled(period, [(pks[n], "", 100.5 * v, None) for n, v in per_village.items()])

    def street_only(period):
        return [(tree["street_a"].pk, "", 7, None), (tree["street_b"].pk, "", 9, None)]

    def link(name):
        return lambda unit, period, bucket: f"/lists/{name}/?unit={unit.pk}&period={period.key}&bucket={bucket}"

    people, care = "人员", "走访"
    return [
        figures.Figure(key="registry.veterans", label="在册人数", description="", compute=veterans, app="registry",
                       group=people, period_kind=figures.STOCK, unit="人", link=link("veterans"), order=1),
        figures.Figure(key="test.by_sex", label="按性别", description="", compute=by_sex, app="registry", group=people,
                       buckets=lambda: [("M", "男"), ("F", "女")], unit="人", link=link("sex"), order=2),
        figures.Figure(key="registry.completeness", label="完整率", description="", compute=completeness,
                       app="registry", group=people, kind=figures.RATIO, order=3),
        figures.Figure(key="registry.last_update", label="最近更新", description="", compute=last_update,
                       app="registry", group=people, kind=figures.LATEST, order=4),
        figures.Figure(key="care.visits_done", label="走访次数", description="", compute=visits, app="care", group=care,
                       unit="次", link=link("visits"), order=5),
        figures.Figure(key="care.money", label="慰问金", description="", compute=money, app="care", group=care,
                       kind=figures.AMOUNT, unit="元", order=6),
        figures.Figure(key="test.street_only", label="驻街事项", description="", compute=street_only, app="liaison",
                       group=care, levels=("district", "street"), order=7),
    ]


@pytest.fixture
def figs(tree):
    with installed(make_figures(tree)) as found:
        yield {f.key: f for f in found}


def page(client, user, **params):
    login(client, user)
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return response, tinyhtml5.parse(response.content.decode(), namespace_html_elements=False)


def find(node, tag: str | None = None, cls: str | None = None, **attrs) -> list:
    """Elements below ``node`` by tag, class and attributes (``data_unit=`` for ``data-unit``; ``True``: present)."""
    found = []
    for element in node.iter():
        if tag and element.tag != tag or cls and cls not in (element.get("class") or "").split():
            continue
        if all((element.get(k.replace("_", "-")) is not None) if v is True else element.get(k.replace("_", "-")) == v
               for k, v in attrs.items()):
            found.append(element)
    return found


def by_id(doc, element_id: str):
    return find(doc, id=element_id)[0]


def rows_of(doc, table_id: str, part: str = "tbody") -> list:
    return find(find(by_id(doc, table_id), part)[0], "tr")


def cells(tr, tag: str = "td") -> list:
    return [child for child in tr if child.tag == tag]


def cards_of(doc) -> dict:
    return {card.get("data-figure"): card for card in find(doc, "div", "dash-card")}


def value_of(card) -> str:
    return text(find(card, data_value=True)[0])


def compare_of(card, which: str) -> str:
    return text(find(find(card, data_compare=which)[0], cls="dash-diff")[0])


def text(node) -> str:
    return re.sub(r"\s+", " ", "".join(node.itertext())).strip()


def expected_text(figure, unit, period, bucket="") -> str:
    reading = figures.read([figure], [period], [unit.pk])[(figure.key, period.key, unit.pk)]
    return dashboard.format_number(figure, dashboard.raw_value(reading, bucket))


@pytest.mark.parametrize(("who", "unit_name"), [("leader", "district"), ("street_a", "street_a"),
                                                 ("leader", "village_a1")])
def test_every_number_on_the_page_equals_the_store(client, users, tree, figs, who, unit_name):
    unit = tree[unit_name]
    period = Period.current(figures.QUARTER)
    _response, doc = page(client, users[who], unit=unit.pk)
    cards = cards_of(doc)
    shown = {key for key, f in figs.items() if f.splits_by(unit.level)}
    assert set(cards) == shown
    for key in shown:
        value = find(cards[key], data_value=True)[0]
        assert text(value) == expected_text(figs[key], unit, period), key
        link = figs[key].url(unit, period, "")
        assert (value.get("href") == link) if link else value.tag == "span"
    # the bucket chart's table
    chart = find(doc, cls="dash-chart-card", data_figure="test.by_sex")[0]
    rows = {tr.get("data-bucket"): text(cells(tr)[0]) for tr in find(chart, "tr", data_bucket=True)}
    assert rows == {b: expected_text(figs["test.by_sex"], unit, period, b) for b in ("M", "F")}
    # the drill table: one row per child, one cell per main figure
    children = [u for u in tree.values() if u.depth == unit.depth + 1 and u.path.startswith(unit.path)]
    if not children:
        assert not find(doc, id="drill-table")
    drill_rows = rows_of(doc, "drill-table") if children else []
    assert sorted(int(tr.get("data-unit")) for tr in drill_rows) == sorted(c.pk for c in children)
    heads = [th.get("data-figure") for th in find(by_id(doc, "drill-table"), "th", data_figure=True)] if children else []
    for tr in drill_rows:
        child = next(c for c in children if c.pk == int(tr.get("data-unit")))
        assert [text(td) for td in cells(tr)] == [expected_text(figs[k], child, period) for k in heads]
    # the station table: every village below the unit, worst completeness first
    villages = [u for u in tree.values() if u.level == "community" and u.path.startswith(unit.path)]
    station_rows = rows_of(doc, "stations-table")
    assert sorted(int(tr.get("data-unit")) for tr in station_rows) == sorted(v.pk for v in villages)
    heads = [th.get("data-figure") for th in find(by_id(doc, "stations-table"), "th", data_figure=True)]
    assert heads == list(dashboard.STATION_KEYS)
    shares = []
    for tr in station_rows:
        village = next(v for v in villages if v.pk == int(tr.get("data-unit")))
        shown_cells = [text(td) for td in cells(tr)][2:]
        assert shown_cells == [expected_text(figs[k], village, period) for k in heads]
        shares.append(float(shown_cells[0].rstrip("%")))
    assert shares == sorted(shares)


def test_known_values_and_comparisons(client, users, tree, figs):
    period = Period.current(figures.QUARTER)
    _response, doc = page(client, users["leader"])
    cards = cards_of(doc)

    def parts(key):
        return value_of(cards[key]), compare_of(cards[key], "previous"), compare_of(cards[key], "last_year")

    assert parts("registry.veterans") == ("210", "+70", "+140")  # 70 per unit of scale: ×3, ×2, ×1
    assert parts("care.money") == ("2,110.50", "+703.50", "+1,407.00")
    # 4/8 complete in every period: no change, in percentage points
    assert parts("registry.completeness") == ("50.0%", "0.0 个百分点", "0.0 个百分点")
    assert parts("registry.last_update")[1:] == ("—", "—")
    assert find(find(cards["registry.veterans"], data_compare="previous")[0], "i", "bi-arrow-up")
    assert "截至" in text(find(cards["registry.veterans"], cls="dash-asof")[0])
    # a period long before any data: zeros, not errors; the comparison with nothing is "—" for a ratio
    old = period.previous().previous().previous().previous().previous()
    _response, doc = page(client, users["leader"], period=old.key)
    cards = cards_of(doc)
    assert value_of(cards["registry.veterans"]) == "0"
    assert value_of(cards["registry.completeness"]) == "—"


def test_drill_links_and_lineage_stay_inside_the_area(client, users, tree, figs):
    _response, doc = page(client, users["street_a"], unit=tree["village_a1"].pk)
    crumbs = [a.get("data-unit") for a in find(by_id(doc, "dashboard-lineage"), "a")]
    assert crumbs == [str(tree["street_a"].pk)]  # not the district: outside the street's area
    _response, doc = page(client, users["leader"])
    drills = {text(a): a.get("href") for a in find(by_id(doc, "drill-table"), "a", "dash-drill")}
    assert drills["甲街道"] == f"?unit={tree['street_a'].pk}&period={Period.current(figures.QUARTER).key}"


def test_scope_other_units_answer_404(client, users, tree, figs):
    login(client, users["street_a"])
    assert client.get(URL).context["unit"] == tree["street_a"]
    for unit in ("street_b", "village_b1", "district"):
        assert client.get(URL, {"unit": tree[unit].pk}).status_code == 404
    assert client.get(URL, {"unit": "x"}).status_code == 404
    assert client.get(URL, {"unit": tree["village_a2"].pk}).status_code == 200
    login(client, users["village_a1"])
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize(("period", "message"), [("2099-Q1", "尚未开始"), ("abc", "不是有效的统计期"),
                                                 ("2026-13", "月份应为 1 至 12")])
def test_a_bad_or_future_period_is_a_clear_error(client, users, figs, period, message):
    response, doc = page(client, users["leader"], period=period)
    error = find(doc, id="dashboard-error")
    assert error and message in text(error[0])
    assert not cards_of(doc)
    login(client, users["leader"])
    assert client.get(URL, {"period": period, "format": "xlsx", "table": "drill"}).status_code == 200  # the page again


def test_month_and_year_periods(client, users, figs):
    month = Period.current(figures.MONTH)
    _response, doc = page(client, users["leader"], period=month.key)
    assert find(by_id(doc, "dashboard-period"), "option", value=month.key, selected=True)
    _response, doc = page(client, users["leader"], period=str(month.start.year))
    assert find(by_id(doc, "dashboard-period"), "option", value=str(month.start.year), selected=True)


def download(client, user, **params):
    login(client, user)
    response = client.get(URL, {"format": "xlsx", **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), data_only=True).active
    return [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]


def test_xlsx_drill_table_and_access_log(client, users, tree, figs):
    rows = download(client, users["leader"], table="drill")
    assert "甲街道" not in rows[0][0]  # a title, then the watermark
    assert "导出人" in str(rows[1][0]) or "leader" in str(rows[1][0])
    header = next(i for i, row in enumerate(rows) if row[0] == "单位")
    body = {row[0]: row[1:] for row in rows[header + 1:]}
    assert set(body) == {"甲街道", "乙街道", "合计"}
    columns = rows[header][1:]
    veterans = columns.index("在册人数（人）")
    assert body["甲街道"][veterans] == 90 and body["乙街道"][veterans] == 120 and body["合计"][veterans] == 210
    entry = AccessLog.objects.get()
    assert entry.action == AccessAction.EXPORT and entry.user == users["leader"]
    assert entry.detail["table"] == "drill" and entry.detail["unit"] == tree["district"].pk
    assert entry.detail["rows"] == 2


def test_xlsx_station_and_figure_tables(client, users, tree, figs):
    rows = download(client, users["street_a"], table="completeness")
    header = next(i for i, row in enumerate(rows) if row[0] == "街道/镇")
    body = rows[header + 1:]
    assert [row[1] for row in body[:-1]] == ["甲一社区", "甲二村"]  # worst first: 1/2 before 2/2
    assert body[0][2] == pytest.approx(0.5) and body[1][2] == pytest.approx(1.0)
    assert body[-1][2] == pytest.approx(0.75) and body[-1][4] == 45  # the street's share; visits summed
    rows = download(client, users["leader"], table="test.by_sex")
    header = next(i for i, row in enumerate(rows) if row[0] == "单位")
    assert rows[header][1:] == ("合计", "男", "女") or list(rows[header][1:]) == ["合计", "男", "女"]
    body = {row[0]: list(row[1:]) for row in rows[header + 1:]}
    assert body["甲街道"] == [27, 18, 9] and body["乙街道"] == [36, 24, 12] and body["合计"] == [63, 42, 21]
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 2


def test_xlsx_unknown_table_and_permission(client, users, figs, tree):
    login(client, users["leader"])
    assert client.get(URL, {"format": "xlsx", "table": "nope"}).status_code == 404
    assert client.get(URL, {"format": "xlsx", "table": "registry.veterans"}).status_code == 404  # no buckets
    # a role that may see the dashboard but not download its tables
    from django.contrib.auth.models import Group, Permission

    from apps.core.choices import Role

    Group.objects.get(name=Role.STREET_STATION).permissions.remove(Permission.objects.get(codename="export_dashboard"))
    login(client, users["street_a"])
    assert client.get(URL).status_code == 200
    assert 'id="drill-export"' not in client.get(URL).content.decode()
    assert client.get(URL, {"format": "xlsx", "table": "drill"}).status_code == 403
    assert not AccessLog.objects.exists()


def _queries(client, **params) -> int:
    client.get(URL, params)  # warm: snapshots counted, rows in the process cache
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, params).status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_figures_or_units(client, users, tree, figs):
    login(client, users["leader"])
    district = _queries(client)
    street = _queries(client, unit=tree["street_a"].pk)
    village = _queries(client, unit=tree["village_a1"].pk)
    assert district == street == village
    assert district <= 9
    more = [figures.Figure(key=f"test.extra{i}", label=f"附加{i}", description="", app="core", group="附加",
                           compute=lambda p: [], buckets=(lambda: [("a", "甲"), ("b", "乙")]) if i % 2 else None)
            for i in range(8)]
    with installed(list(figs.values()) + more):
        assert _queries(client) == district


def test_cold_page_reads_kept_snapshots_only(client, users, tree, figs):
    """With every snapshot kept and fresh, a process that has none in memory reads them with a fixed number of
    queries (no figure is counted again)."""
    login(client, users["leader"])
    client.get(URL)
    from apps.core.figures.store import clear_process_cache

    clear_process_cache()
    with CaptureQueriesContext(connection) as captured:
        client.get(URL)
    assert not any("registry_veteran" in q["sql"] for q in captured.captured_queries)
    assert len(captured) <= 11


def test_page_meets_the_accessibility_basics(client, users, tree, figs):
    from tests.core.test_accessibility import problems

    for unit in ("district", "street_a", "village_a1"):
        response, _doc = page(client, users["leader"], unit=tree[unit].pk)
        assert problems(response.content.decode()) == []


def test_menu_entry(client, users, figs):
    login(client, users["leader"])
    assert 'data-nav="dashboard"' in client.get(reverse("core:home"), follow=True).content.decode()
    login(client, users["village_a1"])
    assert 'data-nav="dashboard"' not in client.get(reverse("core:home")).content.decode()


def test_with_the_figures_registered_now(client, users, tree):
    """Whatever figures the apps register today: the page shows each that splits by the unit's level, with the
    store's number."""
    period = Period.current(figures.QUARTER)
    _response, doc = page(client, users["leader"])
    cards = cards_of(doc)
    for figure in figures.all_figures():
        assert value_of(cards[figure.key]) == expected_text(figure, tree["district"], period)
