"""The list kit (``apps.core.lists``): the keyset pager on its own, ``is_partial``, filters, tables and the
generic list view's xlsx export (its columns are the table's)."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core import signing
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from apps.core.choices import AccessAction, Role
from apps.core.lists import is_partial
from apps.core.lists.filters import ALL, unit_labels
from apps.core.lists.paging import SALT, keyset_page, make_cursor, read_cursor
from apps.core.models import AccessLog
from apps.core.services import orgunit_create
from apps.honors.tables import NoticeTable, PlaqueTable
from tests.conftest import login
from tests.honors.factories import make_notice, make_plaque
from tests.registry.factories import make_veteran

pytestmark = pytest.mark.django_db


# --- keyset pager ---------------------------------------------------------------------------------------


@pytest.fixture
def entries(users):
    """Seven access-log entries, a minute apart (the newest first under the log's order)."""
    now = timezone.now()
    rows = []
    for i in range(7):
        row = AccessLog.objects.create(user=users["admin"], action=AccessAction.VIEW, object_repr=f"条目{i}")
        AccessLog.objects.filter(pk=row.pk).update(created_at=now - timedelta(minutes=7 - i))
        rows.append(row.pk)
    return rows


def newest_first():
    return AccessLog.objects.filter(object_repr__startswith="条目").order_by("-created_at", "-id")


def test_keyset_pages_walk_every_row_once_both_ways(entries):
    seen, params, pages = [], {}, []
    while True:
        page = keyset_page(newest_first(), params, size=3)
        pages.append(page)
        seen += [row.pk for row in page.rows]
        if not page.next_cursor:
            break
        params = {"after": page.next_cursor}
    assert seen == list(reversed(entries)) and len(pages) == 3
    assert pages[0].is_first and not pages[1].is_first
    back = keyset_page(newest_first(), {"before": pages[2].prev_cursor}, size=3)
    assert [row.pk for row in back.rows] == [row.pk for row in pages[1].rows]


def test_a_cursor_restores_datetimes_through_the_field(entries):
    row = newest_first()[2]
    values = read_cursor(make_cursor(row, newest_first()), newest_first())
    assert values == [row.created_at, row.pk]  # an aware datetime again, not its text


def test_capped_count(entries):
    page = keyset_page(newest_first(), {}, size=2, count_cap=5)
    assert page.total == 5 and page.total_capped and page.counted
    page = keyset_page(newest_first(), {}, size=2, count_cap=10)
    assert page.total == 7 and not page.total_capped
    assert not keyset_page(newest_first(), {}, size=2, count_cap=None).counted


def test_tampered_replayed_or_malformed_cursors_give_the_first_page(entries):
    first = [row.pk for row in keyset_page(newest_first(), {}, size=3).rows]
    cursor = keyset_page(newest_first(), {}, size=3).next_cursor
    oldest_first = AccessLog.objects.filter(object_repr__startswith="条目").order_by("created_at", "id")
    tampered = cursor[:-3] + ("aaa" if not cursor.endswith("aaa") else "bbb")
    forged_values = signing.dumps({"o": ["-created_at", "-id"], "v": ["kein Datum", "x"]}, salt=SALT)
    other_salt = signing.dumps({"o": ["-created_at", "-id"], "v": [timezone.now().isoformat(), 1]}, salt="other")
    for bad in (tampered, forged_values, other_salt, "garbage", "", "\x00", "a" * 500):
        for direction in ("after", "before"):
            page = keyset_page(newest_first(), {direction: bad}, size=3)
            assert [row.pk for row in page.rows] == first and page.is_first, (bad, direction)
    # Replayed under the opposite order: the first page of that order.
    page = keyset_page(oldest_first, {"after": cursor}, size=3)
    assert [row.pk for row in page.rows] == entries[:3] and page.is_first


# --- is_partial ------------------------------------------------------------------------------------------


def _request(**headers):
    from django_htmx.middleware import HtmxDetails

    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)
    return request


def test_is_partial():
    assert not is_partial(RequestFactory().get("/"))  # no htmx middleware at all
    assert not is_partial(_request())
    assert is_partial(_request(**{"HX-Request": "true"}))
    assert not is_partial(_request(**{"HX-Request": "true", "HX-Boosted": "true"}))
    assert not is_partial(_request(**{"HX-Request": "true", "HX-History-Restore-Request": "true"}))


@pytest.mark.parametrize("url", ["registry:veteran_list", "honors:plaque_list", "care:worklist", "core:user_list",
                                 "core:audit"])
def test_history_restore_requests_get_the_full_page_and_pages_vary_on_htmx(client, users, url):
    login(client, users["admin"] if url.startswith("core") else users["street_a"])
    partial = client.get(reverse(url), headers={"HX-Request": "true"})
    restore = client.get(reverse(url), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    full = client.get(reverse(url))
    assert partial.status_code == restore.status_code == full.status_code == 200
    assert "<html" not in partial.content.decode()
    assert "<html" in restore.content.decode() and "<html" in full.content.decode()
    for response in (partial, restore, full):
        assert "HX-Request" in response["Vary"], url


def test_person_tab_varies_and_history_restore_is_the_full_page(client, users, tree):
    person = make_veteran(tree["village_a1"], name="恢复老兵")
    login(client, users["village_a1"])
    url = reverse("registry:veteran_detail", args=[person.pk])
    tab = client.get(url, {"tab": "access"}, headers={"HX-Request": "true"})
    restore = client.get(url, {"tab": "access"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" not in tab.content.decode() and "<html" in restore.content.decode()
    assert "HX-Request" in tab["Vary"] and "HX-Request" in restore["Vary"]


# --- filters ---------------------------------------------------------------------------------------------


def test_empty_choices_read_all(client, users, tree):
    login(client, users["street_a"])
    page = client.get(reverse("honors:plaque_list")).content.decode()
    assert "---------" not in page
    assert f'<option value="">{ALL}</option>' in page and str(ALL) == "全部"
    page = client.get(reverse("registry:veteran_list")).content.decode()
    assert "---------" not in page and '<option value="">全部</option>' in page


def test_same_named_villages_are_told_apart(client, users, tree):
    twin_a = orgunit_create(actor=None, parent=tree["street_a"], code="320111001203", name="新村")
    twin_b = orgunit_create(actor=None, parent=tree["street_b"], code="320111002203", name="新村")
    labels = unit_labels([tree["district"], tree["street_a"], twin_a, tree["street_b"], twin_b])
    assert labels[twin_a.pk] == "甲街道 / 新村" and labels[twin_b.pk] == "乙街道 / 新村"
    # Without their streets in the list, the division code tells them apart.
    labels = unit_labels([twin_a, twin_b])
    assert labels[twin_a.pk] != labels[twin_b.pk] and twin_a.code in labels[twin_a.pk]
    login(client, users["admin"])
    page = client.get(reverse("registry:veteran_list")).content.decode()
    assert "甲街道 / 新村" in page and "乙街道 / 新村" in page


# --- tables and the export -------------------------------------------------------------------------------


def test_tables_escape_their_cells(client, users, tree):
    person = make_veteran(tree["village_a1"], name="<script>x</script>")
    make_plaque(person, people="<b>某</b>")
    login(client, users["village_a1"])
    page = client.get(reverse("honors:plaque_list")).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;b&gt;某&lt;/b&gt;" in page


def _sheet(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def _header_row(sheet, first: str) -> tuple[int, list]:
    for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if row and row[0] == first:
            return index, list(row)
    raise AssertionError(f"no header row starting with {first!r}")


@pytest.mark.parametrize(("url", "table"), [("honors:plaque_list", PlaqueTable), ("honors:notice_list", NoticeTable)])
def test_the_export_has_the_tables_columns_and_is_logged(client, users, tree, url, table):
    person = make_veteran(tree["village_a1"], name="导出军属")
    make_plaque(person)
    make_notice(person, member_name="导出喜报")
    make_plaque(make_veteran(tree["village_b1"], name="乙村军属"))
    login(client, users["street_a"])
    sheet = _sheet(client.get(reverse(url), {"format": "xlsx"}))
    headers = [str(column.header) for column in table.export_columns()]
    index, found = _header_row(sheet, headers[0])
    assert found[: len(headers)] == headers
    data = [row for row in sheet.iter_rows(min_row=index + 1, values_only=True) if any(row)]
    assert len(data) == 1 and "导出军属" in data[0]  # scoped: street B's plaque is not in street A's export
    entry = AccessLog.objects.filter(action=AccessAction.EXPORT).latest("created_at")
    assert entry.user == users["street_a"] and entry.detail["rows"] == 1


def test_the_user_and_audit_exports_have_their_tables_columns(client, users):
    from apps.core.tables import AccessTable, UserTable

    login(client, users["admin"])
    sheet = _sheet(client.get(reverse("core:user_list"), {"format": "xlsx", "role": Role.ADMIN.value}))
    headers = [str(column.header) for column in UserTable.export_columns()]
    index, found = _header_row(sheet, headers[0])
    assert found[: len(headers)] == headers
    assert [row[0] for row in sheet.iter_rows(min_row=index + 1, values_only=True) if any(row)] == ["admin"]
    sheet = _sheet(client.get(reverse("core:audit"), {"tab": "access", "format": "xlsx"}))
    headers = [str(column.header) for column in AccessTable.export_columns()]
    assert _header_row(sheet, headers[0])[1][: len(headers)] == headers


def test_the_export_needs_its_permission(client, users):
    login(client, users["village_a1"])
    assert client.get(reverse("core:user_list"), {"format": "xlsx"}).status_code == 403
    login(client, users["enterprise"])
    assert client.get(reverse("honors:plaque_list"), {"format": "xlsx"}).status_code == 403
