"""A station user finds a person by pinyin initials, opens the record, reveals the ID (logged)."""

import pytest
from playwright.sync_api import expect

from apps.core.models import AccessLog
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.registry.factories import make_veteran

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_station_user_searches_by_initials_and_opens_a_record(page, live_server, users, tree):
    zhang = make_veteran(tree["village_a1"], name="张卫国")
    make_veteran(tree["village_a1"], name="李强")
    make_veteran(tree["village_a2"], name="张伟")  # sibling village: never shown

    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.click("[data-nav=veterans]")
    rows = page.locator("#veteran-results tbody tr")
    assert rows.count() == 2

    page.fill("#id_q", "zwg")
    expect(rows).to_have_count(1)
    assert "张卫国" in rows.first.inner_text()
    assert "zwg" in page.url  # the search is in the address bar (htmx push)

    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/veterans/{zhang.pk}/")
    assert page.locator("#veteran-name").inner_text().startswith("张卫国")
    assert page.locator("#id-number").inner_text() == zhang.id_number_masked

    page.click("#reveal-button")
    page.wait_for_selector("#id-full")
    assert page.locator("#id-full").inner_text() == zhang.id_number
    assert AccessLog.objects.filter(action="reveal", object_id=str(zhang.pk)).count() == 1

    # The "who viewed" tab lists this user's view and reveal.
    page.click("[data-tab=access]")
    expect(page.locator("#tab-body tbody tr")).to_have_count(2)
    expect(page.locator("[data-tab=access]")).to_have_class("nav-link active")
