"""A village clerk's home page shows the overdue count, and the number opens the worklist's overdue tab with
that many rows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.care.models import DueVisit
from tests.care.helpers_pages import ensure_care_seed, make_task
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.registry.factories import make_veteran

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_village_clerk_opens_the_overdue_tab_from_home(page, live_server, users, tree):
    ensure_care_seed()
    today = timezone.localdate()
    people = [make_veteran(tree["village_a1"], name=name) for name in ("王建军", "刘德明", "陈国强", "李长林")]
    sibling = make_veteran(tree["village_a2"], name="赵春生")
    DueVisit.objects.all().delete()  # the tasks the rules gave the new records: this test sets its own
    for days, person in zip((2, 9, 30), people, strict=False):
        make_task(person, due=today - timedelta(days=days))
    make_task(people[3], due=today + timedelta(days=3))
    make_task(sibling, due=today - timedelta(days=5))  # another village's: never counted here

    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    overdue = page.locator("[data-tile=overdue]")
    expect(overdue).to_have_text("3")
    overdue.click()
    page.wait_for_url("**/care/worklist/?view=overdue")
    expect(page.locator("[data-view=overdue]")).to_have_class("nav-link active")
    expect(page.locator("[data-count=overdue]")).to_have_text("3")
    expect(page.locator("#worklist-results tbody tr[data-task]")).to_have_count(3)
    expect(page.locator("#worklist-results")).not_to_contain_text("赵春生")
