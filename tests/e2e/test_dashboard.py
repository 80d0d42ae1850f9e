"""A leader opens the dashboard, drills from the district to a street (the table) and to a village (the chart),
and opens the matching list of people from a number."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.registry.factories import make_veteran
from tests.reports.dashboard_figures import demo_figures, installed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def figures_installed(tree):
    # Counted from the real tables, linking to the real register (until the registry's own figures are on main).
    with installed(demo_figures()):
        yield


def test_leader_drills_down_to_a_village_and_opens_the_list(page, live_server, users, tree, figures_installed):
    for name in ("张卫国", "李强", "王芳"):
        make_veteran(tree["village_a1"], name=name)
    make_veteran(tree["village_a2"], name="赵四")
    make_veteran(tree["village_b1"], name="钱五")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(f"{page.url}: {message.text[:60]} {message.location}") if message.type == "error" else None)

    log_in(page, live_server, "leader", PASSWORD)
    page.wait_for_url("**/reports/dashboard/")  # leadership's home page is the dashboard
    page.click("[data-nav=dashboard]")  # and the menu leads there too
    page.wait_for_url("**/reports/dashboard/")
    card = page.locator(".dash-card[data-figure='registry.veterans'] [data-value]")
    expect(card).to_have_text("5")
    expect(page.locator("#chart-children canvas")).to_have_count(1)  # ECharts drew the per-unit chart

    # district → street: the drill table
    page.locator("#drill-table a.dash-drill", has_text="甲街道").click()
    page.wait_for_url(re.compile(rf".*unit={tree['street_a'].pk}.*"))
    expect(page.locator("#dashboard-title")).to_contain_text("甲街道")
    expect(card).to_have_text("4")
    expect(page.locator("#dashboard-lineage")).to_contain_text("测试区")

    # street → village: a click on the village's bar in the per-unit chart
    chart = page.locator("#chart-children")
    expect(chart.locator("canvas")).to_have_count(1)
    page.wait_for_timeout(600)  # the chart's entry animation
    # horizontal bars: the first unit's bar runs from the axis; click inside it
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    point = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('chart-children'));
        const layout = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(0);
        return [layout.x + layout.width / 2, layout.y + layout.height / 2];
    }""")
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_url(re.compile(rf".*unit={tree['village_a1'].pk}.*"))
    expect(page.locator("#dashboard-title")).to_contain_text("甲一社区")
    expect(card).to_have_text("3")

    # a number opens the matching, scoped list of people
    card.click()
    page.wait_for_url(re.compile(rf".*/veterans/\?unit={tree['village_a1'].pk}.*"))
    expect(page.locator("#result-count")).to_contain_text("3")
    assert page.locator("#veteran-results tbody tr").count() == 3
    assert not errors, errors
