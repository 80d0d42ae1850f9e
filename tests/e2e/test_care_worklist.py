"""A village-station user opens the worklist, logs a visit for a task, and the task is gone from the list."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.care.models import DueVisit, Visit
from tests.care.helpers_pages import ensure_care_seed, make_task
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.registry.factories import make_veteran

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_village_user_logs_a_visit_from_the_worklist(page, live_server, users, tree):
    ensure_care_seed()
    today = timezone.localdate()
    wang, liu, zhao = (make_veteran(tree[unit], name=name) for unit, name in
                       [("village_a1", "王建军"), ("village_a1", "刘德明"), ("village_a2", "赵春生")])
    DueVisit.objects.all().delete()  # the tasks the rules gave the new records: this test sets its own
    task = make_task(wang, due=today - timedelta(days=2))
    other = make_task(liu, due=today + timedelta(days=1))
    make_task(zhao, due=today)  # sibling village: never shown

    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.click("[data-nav=care_worklist]")
    rows = page.locator("#worklist-results tbody tr[data-task]")
    expect(rows).to_have_count(2)
    expect(page.locator(f"#task-{task.pk} [data-overdue]")).to_have_attribute("data-overdue", "2")

    # The overdue tab updates the list in place (htmx) and puts the tab in the address bar.
    page.click("[data-view=overdue]")
    expect(rows).to_have_count(1)
    expect(page.locator("[data-view=overdue]")).to_have_class("nav-link active")
    assert "view=overdue" in page.url

    page.click(f"#task-{task.pk} [data-action=log-visit]")
    page.wait_for_url(f"**/care/tasks/{task.pk}/visit/**")
    expect(page.locator("#visit-task")).to_be_visible()
    page.fill("#id_visitors", "陈专干、村书记")
    page.fill("#id_content", "了解身体和生活情况")
    page.fill("#id_money", "300")
    page.click("#visit-save")

    page.wait_for_url(re.compile(r"/care/worklist/\?view=overdue$"))
    expect(page.locator(".alert-success")).to_contain_text("王建军")
    expect(page.locator(f"#task-{task.pk}")).to_have_count(0)
    expect(page.locator("[data-count=overdue]")).to_have_text("0")
    page.click("[data-view=open]")
    expect(rows).to_have_count(1)
    expect(page.locator(f"#task-{other.pk}")).to_be_visible()

    task.refresh_from_db()
    assert task.status == "done"
    visit = Visit.objects.get()
    assert visit.visitors == "陈专干、村书记" and visit.money == 300 and task.visit_id == visit.pk

    # "No longer needed": a reason, a confirm dialog, and the row is gone.
    page.click(f"#task-{other.pk} [data-action=cancel-task]")
    expect(page.locator("#cancel-task-modal [data-cancel-person]")).to_have_text(other.veteran.name)
    page.fill("#cancel-reason", "已迁往外地")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-task-form button[type=submit]")
    expect(page.locator(f"#task-{other.pk}")).to_have_count(0)
    assert DueVisit.objects.get(pk=other.pk).status == "cancelled"
