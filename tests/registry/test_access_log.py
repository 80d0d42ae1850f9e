"""Sensitive reads of a record in the access log (issue 10, findings 9, 11 and 13): one entry per visit to the person
page, the edit form, searches by full ID number (never in a URL), exports naming the records they held, and the
"viewed or exported by" tab (IP addresses for administrators only)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from apps.core.choices import AccessAction
from apps.core.models import AccessLog
from apps.registry import exporting, filters
from apps.registry.models import ExportedVeteran, Veteran
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran

pytestmark = pytest.mark.django_db


def entries(veteran, **kwargs):
    return AccessLog.objects.filter(content_type=ContentType.objects.get_for_model(Veteran),
                                    object_id=str(veteran.pk), **kwargs)


@pytest.fixture
def zhang(tree):
    return make_veteran(tree["village_a1"], name="张伟", id_number=id_number("19700305"))


# --- one entry per visit to the person page ------------------------------------------------------------------


def test_a_visit_to_the_person_page_is_one_entry_whatever_tabs_are_opened(client, users, zhang):
    login(client, users["village_a1"])
    url = reverse("registry:veteran_detail", args=[zhang.pk])
    assert client.get(url).status_code == 200
    for tab in ("service", "care", "family", "card", "files", "history", "access", "basic"):
        assert client.get(url, {"tab": tab}, HTTP_HX_REQUEST="true").status_code == 200
    assert entries(zhang, action=AccessAction.VIEW).count() == 1


def test_tabs_read_without_opening_the_page_are_logged(client, users, zhang):
    """A script that sends htmx's header and reads the tabs alone is not a visit that was logged already."""
    login(client, users["village_a1"])
    url = reverse("registry:veteran_detail", args=[zhang.pk])
    assert client.get(url, {"tab": "family"}, HTTP_HX_REQUEST="true").status_code == 200
    assert entries(zhang, action=AccessAction.VIEW, user=users["village_a1"]).count() == 1
    client.get(url, {"tab": "card"}, HTTP_HX_REQUEST="true")  # the same visit
    assert entries(zhang, action=AccessAction.VIEW).count() == 1


def test_the_edit_form_is_logged(client, users, zhang):
    login(client, users["village_a1"])
    assert client.get(reverse("registry:veteran_edit", args=[zhang.pk])).status_code == 200
    entry = entries(zhang).get()
    assert (entry.action, entry.detail, entry.user) == (AccessAction.VIEW, {"form": "edit"}, users["village_a1"])


# --- the "viewed or exported by" tab ------------------------------------------------------------------------


def test_ip_addresses_are_shown_to_administrators_only(client, users, zhang):
    AccessLog.objects.create(user=users["bureau"], action=AccessAction.VIEW, ip_address="10.9.8.7",
                             content_type=ContentType.objects.get_for_model(Veteran), object_id=str(zhang.pk))
    url = reverse("registry:veteran_detail", args=[zhang.pk])
    for name in ("village_a1", "street_a", "bureau", "leader"):
        login(client, users[name])
        page = client.get(url, {"tab": "access"}).content.decode()
        assert str(users["bureau"]) in page and "10.9.8.7" not in page and "127.0.0.1" not in page, name
    login(client, users["admin"])
    page = client.get(url, {"tab": "access"}).content.decode()
    assert "10.9.8.7" in page and "127.0.0.1" in page


# --- exports name the records they contain -------------------------------------------------------------------


def test_an_export_appears_on_the_tab_of_each_person_it_contained(client, users, tree, zhang):
    li = make_veteran(tree["village_a1"], name="李强")
    other = make_veteran(tree["village_a2"], name="张文")
    login(client, users["village_a1"])
    response = client.post(reverse("registry:veteran_export"), {"reason": "核对"})
    assert response.status_code == 200
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert set(ExportedVeteran.objects.filter(entry=entry).values_list("veteran_id", flat=True)) == {zhang.pk, li.pk}
    url = reverse("registry:veteran_detail", args=[zhang.pk])
    tab = client.get(url, {"tab": "access"}, HTTP_HX_REQUEST="true")
    assert entry in tab.context["access"]
    assert "(2 " in tab.content.decode() or "2 条" in tab.content.decode()
    login(client, users["admin"])
    tab = client.get(reverse("registry:veteran_detail", args=[other.pk]), {"tab": "access"})
    assert entry not in tab.context["access"]


def test_the_purge_deletes_old_exports_with_their_links(users, tree, zhang):
    """The database cascades the links: the purge neither loads old entries nor counts links as entries."""
    from array import array
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.services import audit_purge

    old = AccessLog.objects.create(user=users["admin"], action=AccessAction.EXPORT)
    AccessLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    kept = AccessLog.objects.create(user=users["admin"], action=AccessAction.EXPORT)
    for entry in (old, kept):
        exporting.exported_records_link(entry=entry, ids=array("q", [zhang.pk]))
    result = audit_purge()
    assert result.access_log == 1
    assert list(ExportedVeteran.objects.values_list("entry_id", flat=True)) == [kept.pk]


def test_a_background_export_names_its_records_too(client, users, tree, zhang, settings,
                                                  django_capture_on_commit_callbacks):
    settings.REGISTRY_EXPORT_SYNC_MAX_ROWS = 1
    make_veteran(tree["village_a1"], name="李强")
    login(client, users["village_a1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:veteran_export"), {"reason": "年度统计"})
    assert response.status_code == 302
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert ExportedVeteran.objects.filter(entry=entry).count() == 2
    assert ExportedVeteran.objects.filter(entry=entry, veteran=zhang).exists()


def test_linking_a_large_export_is_one_statement(users, tree, zhang, django_assert_num_queries):
    entry = AccessLog.objects.create(user=users["admin"], action=AccessAction.EXPORT)
    from array import array

    ids = array("q", [zhang.pk] * 3)  # repeated ids are kept once
    with django_assert_num_queries(1):
        exporting.exported_records_link(entry=entry, ids=ids)
    assert ExportedVeteran.objects.filter(entry=entry).count() == 1


# --- search by full ID number: never in a URL, logged ---------------------------------------------------------


def test_a_search_by_id_number_is_posted_logged_and_listed_under_a_token(client, users, tree, zhang):
    make_veteran(tree["village_a1"], name="李强")
    login(client, users["village_a1"])
    number = zhang.id_number
    response = client.post(reverse("registry:veteran_search"), {"q": f" {number} ", "sex": "M", "after": "x"})
    assert response.status_code == 303
    location = response["Location"]
    assert number not in location and number[:12] not in location
    assert location.startswith(reverse("registry:veteran_list") + "?") and "idt=" in location and "sex=M" in location
    listed = client.get(location)
    assert [row.pk for row in listed.context["page"].rows] == [zhang.pk]
    assert number not in listed.content.decode()
    assert zhang.id_number_masked in listed.content.decode()  # "searching by ID number 320111********…"
    # htmx: the same POST, followed to the table alone.
    table = client.post(reverse("registry:veteran_search"), {"q": number}, HTTP_HX_REQUEST="true", follow=True)
    assert [t.name for t in table.templates][0] == "registry/partials/veteran_table.html"
    assert [row.pk for row in table.context["page"].rows] == [zhang.pk]
    entry = entries(zhang, action=AccessAction.SEARCH).first()
    assert entry.user == users["village_a1"] and entry.detail == {"id_number": zhang.id_number_masked}
    assert entries(zhang, action=AccessAction.SEARCH).count() == 2
    # The token means nothing in another session.
    login(client, users["street_a"])
    other = client.get(location)
    assert list(other.context["page"].rows) == []
    assert "expired" in other.content.decode() or "已失效" in other.content.decode()


def test_a_search_that_finds_nobody_is_logged_without_a_record(client, users, tree):
    out_of_scope = make_veteran(tree["village_b1"], name="王芳")
    login(client, users["village_a1"])
    response = client.post(reverse("registry:veteran_search"), {"q": out_of_scope.id_number}, follow=True)
    assert list(response.context["page"].rows) == []
    entry = AccessLog.objects.get(action=AccessAction.SEARCH)
    assert entry.object_id == "" and entry.detail == {"id_number": out_of_scope.id_number_masked, "found": 0}


def test_other_searches_stay_get_requests(client, users, zhang):
    login(client, users["village_a1"])
    response = client.post(reverse("registry:veteran_search"), {"q": "zw", "status": "all"})
    assert response.status_code == 303
    assert response["Location"] == reverse("registry:veteran_list") + "?q=zw&status=all"
    assert not AccessLog.objects.filter(action=AccessAction.SEARCH).exists()


def test_an_id_number_in_the_list_url_is_moved_out_of_it(client, users, zhang):
    """Typed into the address bar (or sent without the page's script): answered with a redirect to the token."""
    login(client, users["village_a1"])
    response = client.get(reverse("registry:veteran_list"), {"q": zhang.id_number, "ordering": "name"})
    assert response.status_code == 303 and zhang.id_number not in response["Location"]
    assert "ordering=name" in response["Location"]
    listed = client.get(response["Location"])
    assert [row.pk for row in listed.context["page"].rows] == [zhang.pk]
    # A name search replaces the token's search.
    named = client.get(response["Location"] + "&q=zw")
    assert named.context["id_search"] is None


def test_an_export_of_an_id_search_holds_that_person_only(client, users, tree, zhang):
    make_veteran(tree["village_a1"], name="李强")
    login(client, users["village_a1"])
    location = client.post(reverse("registry:veteran_search"), {"q": zhang.id_number})["Location"]
    query = location.split("?", 1)[1]
    page = client.get(f"{reverse('registry:veteran_export')}?{query}")
    assert page.context["count"] == 1 and "idt=" in page.context["query"]
    client.post(f"{reverse('registry:veteran_export')}?{query}", {"reason": "核对"})
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert entry.detail["rows"] == 1 and zhang.id_number not in str(entry.detail)
    assert list(ExportedVeteran.objects.filter(entry=entry).values_list("veteran_id", flat=True)) == [zhang.pk]


def test_the_session_keeps_only_the_latest_searches(client, users, zhang):
    session = client.session
    tokens = [filters.id_search_store(session, zhang.id_number) for _ in range(filters.ID_SEARCH_KEEP + 5)]
    kept = session[filters.ID_SEARCH_SESSION_KEY]
    assert list(kept) == tokens[-filters.ID_SEARCH_KEEP:]
    assert zhang.id_number not in str(kept)
    assert filters.id_search_lookup(session, tokens[0]).blind_index is None
    assert filters.id_search_lookup(session, tokens[-1]).masked == zhang.id_number_masked

