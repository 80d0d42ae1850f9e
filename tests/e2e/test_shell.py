"""A village-station user logs in and sees their navigation, their unit and nothing outside it."""

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_village_station_login_navigation_and_scope(page, live_server, users, tree):
    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    # Chinese by default, the role on the home page, breadcrumb of the user's unit.
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "村(社区)服务站" in page.locator("#home-roles").inner_text()
    crumbs = page.locator("#unit-breadcrumb").inner_text()
    assert "测试区" in crumbs and "甲街道" in crumbs and "甲一社区" in crumbs

    # Navigation shows only what the role may use.
    nav = page.locator("#main-nav-items [data-nav]")
    keys = {nav.nth(i).get_attribute("data-nav") for i in range(nav.count())}
    assert keys == {"home", "veterans", "care_worklist", "honors", "downloads", "orgunits"}

    # The org-unit page lists the user's own unit only.
    page.click("[data-nav=orgunits]")
    rows = page.locator("#orgunit-table tbody tr")
    assert rows.count() == 1
    assert "甲一社区" in rows.first.inner_text()

    # A sibling unit's page is a 404, a bureau page is a 403.
    response = page.goto(f"{live_server.url}/orgunits/{tree['village_a2'].pk}/")
    assert response.status == 404
    assert "不存在" in page.content()
    response = page.goto(f"{live_server.url}/users/")
    assert response.status == 403

    # Notification bell and log out.
    page.goto(f"{live_server.url}/")
    assert page.locator("#notification-bell").is_visible()
    page.click("#user-menu")
    page.click("#logout-button")
    page.wait_for_url("**/account/login/**")


def test_wrong_password_message_is_chinese(page, live_server, users):
    log_in(page, live_server, "village_a1", "not-the-password")
    assert "用户名或密码错误" in page.locator("form").first.inner_text()


def test_english_is_selectable(page, live_server, users):
    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.click("#user-menu")
    with page.expect_navigation():
        page.click("button[name=language][value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Community/village station" in page.locator("#home-roles").inner_text()
