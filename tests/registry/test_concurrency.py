"""Lost updates (issue 10, finding 19): two people edit the same record; the second save from a stale form or a
stale API read is refused with what changed, and the first change stays."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.registry import services
from apps.registry.models import Code, FamilyMember, Veteran
from tests.conftest import api_token, login
from tests.registry.factories import make_veteran
from tests.versions import form_fields


def test_the_second_stale_veteran_form_is_refused_and_shows_what_changed(tree, users):
    veteran = make_veteran(tree["village_a1"], phone="13900000001", address="高庙村1号")
    tag = Code.objects.filter(kind="tag").first()
    url = reverse("registry:veteran_edit", args=[veteran.pk])
    first, second = Client(), Client()
    login(first, users["village_a1"])
    login(second, users["street_a"])
    form_one = form_fields(first.get(url).content.decode())
    form_two = form_fields(second.get(url).content.decode())
    assert form_one["version"]

    form_one.update(phone="13911112222", tags=[str(tag.pk)])
    assert first.post(url, form_one).status_code == 302

    form_two.update(address="高庙村2号")  # made on the old form: its phone and tags are the old ones
    response = second.post(url, form_two)
    assert response.status_code == 200
    page = response.content.decode()
    assert "他人" in page and "13911112222" in page and tag.name in page
    row = Veteran.objects.get(pk=veteran.pk)
    assert (row.phone, row.address, list(row.tags.all())) == ("13911112222", "高庙村1号", [tag])  # nothing reverted

    # The form shown again holds the others' values and the current version: saving it keeps both changes.
    again = form_fields(page)
    assert again["phone"] == "13911112222" and again["address"] == "高庙村2号"
    assert second.post(url, again).status_code == 302
    row = Veteran.objects.get(pk=veteran.pk)
    assert (row.phone, row.address, list(row.tags.all())) == ("13911112222", "高庙村2号", [tag])


def test_a_form_without_its_version_is_refused(client, tree, users):
    veteran = make_veteran(tree["village_a1"], phone="13900000001")
    url = reverse("registry:veteran_edit", args=[veteran.pk])
    login(client, users["village_a1"])
    data = form_fields(client.get(url).content.decode())
    del data["version"]
    data["phone"] = "13800000000"
    response = client.post(url, data)
    assert response.status_code == 200 and "过期" in response.content.decode()
    assert Veteran.objects.get(pk=veteran.pk).phone == "13900000001"


def test_a_change_by_an_import_or_service_also_makes_the_form_stale(client, tree, users):
    veteran = make_veteran(tree["village_a1"], phone="13900000001")
    url = reverse("registry:veteran_edit", args=[veteran.pk])
    login(client, users["village_a1"])
    data = form_fields(client.get(url).content.decode())
    Veteran.objects.filter(pk=veteran.pk).update(phone="13700000000")  # a bulk write (an import) meanwhile
    data["notes"] = "我的备注"
    response = client.post(url, data)
    assert response.status_code == 200 and "13700000000" in response.content.decode()
    assert Veteran.objects.get(pk=veteran.pk).notes == ""


def test_the_second_stale_family_form_is_refused(tree, users):
    veteran = make_veteran(tree["village_a1"])
    member = services.family_member_save(actor=None, veteran=veteran, name="李梅", phone="13600000000")
    url = reverse("registry:family_edit", args=[veteran.pk, member.pk])
    first, second = Client(), Client()
    login(first, users["village_a1"])
    login(second, users["village_a1"])
    form_one = form_fields(first.get(url).content.decode())
    form_two = form_fields(second.get(url).content.decode())
    form_one["phone"] = "13611111111"
    assert first.post(url, form_one).status_code == 302
    form_two["work_unit"] = "浦口区医院"
    response = second.post(url, form_two)
    assert response.status_code == 200 and "13611111111" in response.content.decode()
    assert FamilyMember.objects.get(pk=member.pk).work_unit == ""


def test_the_second_stale_care_category_form_is_refused(tree, users):
    veteran = make_veteran(tree["village_a1"])
    entitlement = services.care_entitlement_save(actor=None, veteran=veteran,
                                                 category=Code.objects.get(kind="care_category", name="参战退役人员"))
    url = reverse("registry:care_edit", args=[veteran.pk, entitlement.pk])
    first, second = Client(), Client()
    login(first, users["village_a1"])
    login(second, users["village_a1"])
    form_one = form_fields(first.get(url).content.decode())
    form_two = form_fields(second.get(url).content.decode())
    form_one["monthly_amount"] = "1200"
    assert first.post(url, form_one).status_code == 302
    form_two["start_date"] = "2020-01-01"
    response = second.post(url, form_two)
    assert response.status_code == 200 and "1200" in response.content.decode()
    entitlement.refresh_from_db()
    assert entitlement.monthly_amount == 1200 and entitlement.start_date is None


@pytest.fixture
def api_client(users):
    tokens: dict[str, str] = {}  # one token per user: issuing another revokes the first

    def _api(who: str) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
        if who not in tokens:
            tokens[who] = api_token(users[who])
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[who]}")
        return client

    return _api


def test_api_update_with_a_stale_etag_answers_412_with_what_changed(tree, users, api_client):
    veteran = make_veteran(tree["village_a1"], phone="13900000001")
    url = reverse("veteran-detail", args=[veteran.pk])
    one, two = api_client("village_a1"), api_client("street_a")
    etag_one = one.get(url)["ETag"]
    etag_two = two.get(url)["ETag"]
    assert etag_one == etag_two
    changed = one.patch(url, {"phone": "13911112222"}, format="json", HTTP_IF_MATCH=etag_one)
    assert changed.status_code == 200 and changed["ETag"] != etag_one
    stale = two.patch(url, {"address": "高庙村2号", "phone": "13900000001"}, format="json", HTTP_IF_MATCH=etag_two)
    assert stale.status_code == 412
    body = stale.json()
    assert "他人" in body["detail"]
    assert {"field": "phone", "label": "联系电话", "current": "13911112222"} in body["changed"]
    row = Veteran.objects.get(pk=veteran.pk)
    assert (row.phone, row.address) == ("13911112222", "")
    # With the current ETag the write goes through.
    fresh = two.get(url)["ETag"]
    assert two.patch(url, {"address": "高庙村2号"}, format="json", HTTP_IF_MATCH=fresh).status_code == 200


def test_api_family_update_with_a_stale_etag_answers_412(tree, users, api_client):
    veteran = make_veteran(tree["village_a1"])
    member = services.family_member_save(actor=None, veteran=veteran, name="李梅", phone="13600000000")
    url = reverse("veteran-family-detail", kwargs={"veteran_pk": veteran.pk, "pk": member.pk})
    client = api_client("village_a1")
    etag = client.get(url)["ETag"]
    services.family_member_save(actor=None, veteran=veteran, member=member, phone="13611111111")
    assert client.patch(url, {"name": "李小梅"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert FamilyMember.objects.get(pk=member.pk).name == "李梅"


def test_api_requires_if_match_when_configured(tree, users, api_client, settings):
    settings.API_REQUIRE_IF_MATCH = True
    veteran = make_veteran(tree["village_a1"], phone="13900000001")
    url = reverse("veteran-detail", args=[veteran.pk])
    response = api_client("village_a1").patch(url, {"phone": "13800000000"}, format="json")
    assert response.status_code == 428
    assert Veteran.objects.get(pk=veteran.pk).phone == "13900000001"
