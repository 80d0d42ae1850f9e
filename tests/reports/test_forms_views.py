"""Report form pages: binding refusals shown with the cell named, generation in scope, download logged."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.figures import Period
from apps.core.models import AccessLog
from apps.reports.models import Report
from apps.reports.views.forms import BindingsForm
from tests.conftest import login
from tests.reports.forms_support import make_data, report_figures, shipped_forms  # noqa: F401

pytestmark = pytest.mark.django_db


def test_generate_review_download_through_the_pages(client, tree, users, report_figures, shipped_forms):  # noqa: F811
    make_data(tree, day=timezone.localdate())
    form = shipped_forms["veterans-basic"]
    period = Period.current("quarter").key
    login(client, users["street_a"])
    page = client.get(reverse("reports:form_detail", args=[form.pk]))
    assert page.status_code == 200 and "甲街道" in page.content.decode() and "乙街道" not in page.content.decode()
    other = client.post(reverse("reports:report_generate", args=[form.pk]),
                        {"unit": tree["street_b"].pk, "period": period})
    assert other.status_code == 404
    future = client.post(reverse("reports:report_generate", args=[form.pk]),
                         {"unit": tree["street_a"].pk, "period": "2099-Q1"})
    assert "报告期 2099-Q1 尚未开始" in future.content.decode()
    done = client.post(reverse("reports:report_generate", args=[form.pk]), {"unit": tree["street_a"].pk, "period": period})
    report = Report.objects.get()
    assert done.status_code == 302 and done["Location"] == report.get_absolute_url()
    detail = client.get(report.get_absolute_url()).content.decode()
    assert "该报表由您生成，须由第二人审核和锁定" in detail and "registry.veterans" in detail
    kept = report.files.get()
    download = client.get(reverse("reports:report_file", args=[kept.pk]))
    assert download.status_code == 200 and download.content == kept.file.open("rb").read()
    assert AccessLog.objects.filter(user=users["street_a"], action="download", object_id=str(kept.pk)).exists()
    client.logout()
    login(client, users["street_b"])
    assert client.get(reverse("reports:report_file", args=[kept.pk])).status_code == 404
    login(client, users["bureau"])
    client.post(reverse("reports:report_review", args=[report.pk]), {"decision": "approve"})
    client.post(reverse("reports:report_lock", args=[report.pk]))
    report.refresh_from_db()
    assert report.is_locked
    again = client.post(reverse("reports:report_generate", args=[form.pk]), {"unit": tree["street_a"].pk, "period": period})
    assert "已锁定，不能重新生成" in again.content.decode() and report.files.count() == 1


def test_binding_page_names_the_bad_cell_and_saves_nothing(client, users, report_figures, shipped_forms):  # noqa: F811
    form = shipped_forms["care-visits"]
    login(client, users["admin"])
    page = client.get(reverse("reports:form_bindings", args=[form.pk]))
    assert page.status_code == 200 and "走访慰问合计（次）" in page.content.decode()
    data = {k: ("" if v is None else v) for k, v in BindingsForm.initial_from(form.bindings).items()}
    data["col_D_ref"] = "care.visits_done:nothing"
    text = client.post(reverse("reports:form_bindings", args=[form.pk]), data).content.decode()
    assert "单元格 D5:D44：指标“care.visits_done”（走访次数）没有分项“nothing”。" in text
    data["cells"] += "\nC2 = registry.veterans"
    text = client.post(reverse("reports:form_bindings", args=[form.pk]), data).content.decode()
    assert "单元格 C2 被绑定了两次" in text
    form.refresh_from_db()
    assert form.bindings["grid"]["columns"]["D"]["ref"] == "care.visits_done:spring_festival"
    data = {k: ("" if v is None else v) for k, v in BindingsForm.initial_from(form.bindings).items()}
    data["col_D_ref"] = "care.visits_done:contact"
    assert client.post(reverse("reports:form_bindings", args=[form.pk]), data).status_code == 302
    form.refresh_from_db()
    assert form.bindings["grid"]["columns"]["D"] == {"ref": "care.visits_done:contact", "total": "sum"}


def test_the_menu_has_report_forms_for_who_fills_them(client, users):
    from apps.core import navigation

    for who, shown in [("admin", True), ("bureau", True), ("street_a", True), ("leader", False), ("village_a1", False)]:
        keys = [item.key for item in navigation.items_for(users[who])]
        assert ("report_forms" in keys) == shown, who
    login(client, users["street_a"])
    page = client.get(reverse("reports:form_list")).content.decode()
    assert "上报报表" in page and f'href="{reverse("reports:form_list")}"' in page
