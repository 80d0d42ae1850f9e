"""Two people edit the same record in two browsers (issue 10, finding 19): the second save is refused and says
what the first changed; saving the form shown again keeps both changes."""

import pytest
from playwright.sync_api import expect

from apps.registry.models import Veteran
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.registry.factories import make_veteran

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_second_of_two_browsers_is_refused_and_shown_the_change(page, browser, live_server, users, tree):
    veteran = make_veteran(tree["village_a1"], name="张卫国", phone="13900000001")
    edit = f"{live_server.url}/veterans/{veteran.pk}/edit/"
    other_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    other = other_context.new_page()
    try:
        for tab, who in ((page, "village_a1"), (other, "street_a")):
            log_in(tab, live_server, who, PASSWORD)
            tab.wait_for_url(f"{live_server.url}/")
            tab.goto(edit)

        page.fill("#id_phone", "13911112222")
        page.click("#veteran-form button[type=submit]")
        page.wait_for_url(f"**/veterans/{veteran.pk}/")

        other.fill("#id_address", "高庙村2号")
        other.click("#veteran-form button[type=submit]")
        alert = other.locator("#veteran-form .alert-danger")
        expect(alert).to_contain_text("他人")
        expect(alert).to_contain_text("13911112222")
        assert Veteran.objects.get(pk=veteran.pk).address == ""
        assert other.input_value("#id_phone") == "13911112222"
        assert other.input_value("#id_address") == "高庙村2号"

        other.click("#veteran-form button[type=submit]")
        other.wait_for_url(f"**/veterans/{veteran.pk}/")
        row = Veteran.objects.get(pk=veteran.pk)
        assert (row.phone, row.address) == ("13911112222", "高庙村2号")
    finally:
        other_context.close()
