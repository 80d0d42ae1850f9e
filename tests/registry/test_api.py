"""REST API of the registry: scoping, masking, validation through the services, paging, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from apps.core.models import AccessLog
from apps.registry.models import Code, FamilyMember, Veteran
from tests.conftest import api_token
from tests.registry.factories import category, id_number, make_veteran

pytestmark = pytest.mark.django_db

LIST = reverse("veteran-list")


def detail(pk: int) -> str:
    return reverse("veteran-detail", args=[pk])


def family_list(veteran_pk: int) -> str:
    return reverse("veteran-family-list", kwargs={"veteran_pk": veteran_pk})


def family_detail(veteran_pk: int, pk: int) -> str:
    return reverse("veteran-family-detail", kwargs={"veteran_pk": veteran_pk, "pk": pk})


@pytest.fixture
def api(users):
    """An API client authenticated by token as the named user."""

    keys: dict[str, str] = {}  # one token per user: a new one would revoke the previous

    def _api(who: str, language: str = "zh-hans") -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if who not in keys:
            keys[who] = api_token(users[who])
        client.credentials(HTTP_AUTHORIZATION=f"Token {keys[who]}")
        return client

    return _api


@pytest.fixture
def a1_veteran(tree):
    return make_veteran(tree["village_a1"], name="张伟", phone="13912345678",
                        discharge_mode=Code.objects.get(kind="discharge_mode", name="自主就业"))


def new_person(tree, **extra) -> dict:
    return {"name": "李建国", "id_number": id_number("19700315"), "org_unit": tree["village_a1"].code,
            "primary_category": "退役士兵", **extra}


def messages_in(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


# --- scoping ------------------------------------------------------------------------------------


def test_sibling_gets_404_like_a_missing_record(api, a1_veteran):
    sibling = api("village_a2").get(detail(a1_veteran.pk))
    missing = api("village_a2").get(detail(a1_veteran.pk + 10_000))
    assert sibling.status_code == missing.status_code == 404
    assert sibling.json() == missing.json()
    assert api("street_b").get(detail(a1_veteran.pk)).status_code == 404
    assert api("village_b1").patch(detail(a1_veteran.pk), {"phone": "13800000000"}).status_code == 404


def test_parent_and_district_see_the_child_record(api, a1_veteran):
    for who in ("village_a1", "street_a", "bureau", "leader", "admin"):
        response = api(who).get(detail(a1_veteran.pk))
        assert response.status_code == 200, who
        assert response.json()["name"] == "张伟"


def test_list_is_scoped(api, tree, a1_veteran):
    make_veteran(tree["village_b1"], name="王芳")

    def names(who):
        response = api(who).get(LIST)
        assert response.status_code == 200, who
        return sorted(row["name"] for row in response.json()["results"])

    assert names("village_a1") == ["张伟"]
    assert names("street_a") == ["张伟"]
    assert names("village_a2") == []
    assert names("street_b") == ["王芳"]
    assert names("bureau") == ["张伟", "王芳"]


def test_permissions(api, tree, a1_veteran):
    assert api("enterprise").get(LIST).status_code == 403
    assert api("leader").get(LIST).status_code == 200
    assert api("leader").post(LIST, new_person(tree), format="json").status_code == 403
    assert api("leader").patch(detail(a1_veteran.pk), {"phone": "13800000000"}).status_code == 403
    assert APIClient().get(LIST).status_code in (401, 403)


def test_unit_outside_the_area_cannot_be_filtered_or_written(api, tree, a1_veteran):
    response = api("village_a2").get(LIST, {"unit": tree["village_a1"].pk})
    assert response.status_code == 400
    assert "unit" in response.json()
    response = api("village_a2").post(LIST, new_person(tree), format="json")
    assert response.status_code == 400
    assert "org_unit" in response.json()
    assert not Veteran.objects.filter(name="李建国").exists()


# --- masked output ------------------------------------------------------------------------------


def test_output_is_masked(api, a1_veteran):
    number = a1_veteran.id_number
    for response in (api("village_a1").get(detail(a1_veteran.pk)), api("village_a1").get(LIST)):
        body = response.content.decode()
        assert number not in body
        assert a1_veteran.id_number_masked in body
        assert "id_number_encrypted" not in body and "id_number_hash" not in body
    data = api("village_a1").get(detail(a1_veteran.pk)).json()
    assert "id_number" not in data
    assert data["id_number_masked"] == number[:6] + "********" + number[-4:]


def test_retrieve_is_written_to_the_access_log(api, users, a1_veteran):
    api("street_a").get(detail(a1_veteran.pk))
    log = AccessLog.objects.get(user=users["street_a"], object_id=str(a1_veteran.pk))
    assert log.action == "view"


def test_code_fields_are_names(api, a1_veteran):
    a1_veteran.categories.set([category("退役士兵"), category("残疾军人")])
    a1_veteran.tags.set(Code.objects.filter(kind="tag", name="重点关注"))
    listed = api("village_a1").get(LIST).json()["results"][0]
    data = api("village_a1").get(detail(a1_veteran.pk)).json()
    assert listed == data
    assert data["discharge_mode"] == "自主就业"
    assert data["primary_category"] == "退役士兵"
    assert sorted(data["categories"]) == ["残疾军人", "退役士兵"] and data["tags"] == ["重点关注"]
    assert data["org_unit"] == "320111001001"
    assert data["org_unit_name"] == "甲一社区"
    assert data["ethnic"] is None


def test_fast_representation_matches_drf(api, tree, a1_veteran):
    """The serializer's shortcuts (a representation plan, name maps, ids of categories and tags) give
    exactly what DRF's field-by-field representation gives, for a full and for a sparse record."""
    from rest_framework import serializers
    from rest_framework.test import APIRequestFactory

    from apps.registry.api.serializers import VeteranSerializer

    created = api("village_a1").post(LIST, new_person(
        tree, ethnic="汉族", branch="陆军", military_category="义务兵", rank="上等兵", enlist_date="1988-12-01",
        discharge_date="1990-12-01", categories=["退役士兵", "复员军人"], tags=["重点关注"], hukou_type="urban",
        re_enlisted=True, notes="备注"), format="json").json()
    request = APIRequestFactory().get(LIST)
    for pk in (created["id"], a1_veteran.pk):
        serializer = VeteranSerializer(Veteran.objects.get(pk=pk), context={"request": request})
        drf = serializers.ModelSerializer.to_representation(serializer, serializer.instance)
        assert serializer.data == drf
        assert api("village_a1").get(detail(pk)).json() == api("village_a1").get(LIST, {"q": Veteran.objects.get(
            pk=pk).id_number}).json()["results"][0] == dict(drf)


# --- validation: 400 with field messages -----------------------------------------------------------


def test_bad_check_digit_is_a_field_error_in_the_request_language(api, tree):
    good = id_number("19700315")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    source = "The check digit of the ID number is wrong: check the number for a typing error."
    for language in ("zh-hans", "en"):
        response = api("village_a1", language).post(LIST, new_person(tree, id_number=bad), format="json")
        assert response.status_code == 400
        assert response.json()["id_number"] == [messages_in(language, source)]
    assert response.json()["id_number"] == [source]
    assert not Veteran.objects.exists()


def test_contradicting_sex_is_a_field_error(api, tree):
    male = id_number("19700315", sequence=123)
    response = api("village_a1").post(LIST, new_person(tree, id_number=male, sex="F"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"sex"}
    response = api("village_a1").post(LIST, new_person(tree, id_number=male, birth_date="1970-03-16"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"birth_date"}


def test_duplicate_person_is_refused(api, tree, a1_veteran):
    same = new_person(tree, id_number=a1_veteran.id_number)
    response = api("village_a1").post(LIST, same, format="json")
    assert response.status_code == 400
    assert "甲一社区" in response.json()["id_number"][0]  # the caller may see the record: the unit is named
    hidden = api("village_b1").post(LIST, {**same, "org_unit": tree["village_b1"].code}, format="json")
    assert hidden.status_code == 400
    assert "甲一社区" not in hidden.json()["id_number"][0]  # outside their area: the unit is not named
    assert Veteran.objects.count() == 1


def test_unknown_code_name_and_missing_fields(api, tree):
    response = api("village_a1").post(LIST, new_person(tree, discharge_mode="不存在的方式"), format="json")
    assert response.status_code == 400
    assert "discharge_mode" in response.json()
    response = api("village_a1").post(LIST, {"name": "无号"}, format="json")
    assert response.status_code == 400
    assert {"id_number", "org_unit", "primary_category"} <= set(response.json())


# --- create and update round trip -----------------------------------------------------------------


def test_create_update_round_trip(api, tree):
    client = api("village_a1")
    number = id_number("19650101", sequence=135)
    payload = new_person(tree, id_number=number, ethnic="汉族", branch="陆军", military_category="义务兵",
                         rank="上等兵", discharge_mode="自主就业", enlist_date="1983-11-01",
                         discharge_date="1987-12-01", categories=["退役士兵", "复员军人"], tags=["重点关注"],
                         phone="13900001111", hukou_type="rural")
    created = client.post(LIST, payload, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["sex"] == "M" and data["birth_date"] == "1965-01-01"
    assert data["name_pinyin"] == "lijianguo" and data["name_initials"] == "ljg"
    assert sorted(data["categories"]) == ["复员军人", "退役士兵"]
    assert "id_number" not in data

    patched = client.patch(detail(data["id"]), {"name": "李建军", "tags": [], "discharge_mode": "复员"}, format="json")
    assert patched.status_code == 200, patched.json()
    again = client.get(detail(data["id"])).json()
    assert again["name"] == "李建军" and again["name_initials"] == "ljj"
    assert again["tags"] == [] and again["discharge_mode"] == "复员" and again["rank"] == "上等兵"

    # A PUT of what GET returned, one field changed, is accepted (identity repeated unchanged).
    full = {k: v for k, v in again.items() if v is not None}
    full["address"] = "江浦街道文德路1号"
    put = client.put(detail(data["id"]), full, format="json")
    assert put.status_code == 200, put.json()
    veteran = Veteran.objects.get(pk=data["id"])
    assert veteran.address == "江浦街道文德路1号"
    assert veteran.id_number == number
    assert veteran.events.count() >= 3  # history kept: insert and two updates


def test_update_cannot_change_identity_or_unit(api, tree, a1_veteran):
    client = api("street_a")
    response = client.patch(detail(a1_veteran.pk), {"id_number": id_number("19700101"),
                                                      "org_unit": tree["village_a2"].code, "sex": "F"}, format="json")
    assert response.status_code == 400
    assert {"id_number", "org_unit", "sex"} <= set(response.json())
    a1_veteran.refresh_from_db()
    assert a1_veteran.org_unit == tree["village_a1"]


# --- token auth, search, paging -------------------------------------------------------------------


def test_token_auth_and_session_auth(api, client, users, a1_veteran):
    assert api("village_a1").get(LIST).json()["results"][0]["id"] == a1_veteran.pk
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert bad.get(LIST).status_code in (401, 403)
    client.force_login(users["village_a1"])
    assert client.get(LIST).status_code == 200


@pytest.mark.parametrize("query", ["zw", "zhangwei", "zhang", "张", "张伟", "13912345678"])
def test_search_like_the_page(api, tree, a1_veteran, query):
    make_veteran(tree["village_a1"], name="王芳")
    rows = api("village_a1").get(LIST, {"q": query}).json()["results"]
    assert [row["name"] for row in rows] == ["张伟"]


def test_search_by_id_number_and_filters(api, tree, a1_veteran):
    other = make_veteran(tree["village_a1"], name="王芳", primary_category=category("复员军人"))
    client = api("village_a1")
    assert [r["id"] for r in client.get(LIST, {"q": a1_veteran.id_number}).json()["results"]] == [a1_veteran.pk]
    assert [r["id"] for r in client.get(LIST, {"category": category("复员军人").pk}).json()["results"]] == [other.pk]
    assert client.get(LIST, {"category": 999_999}).status_code == 400


def test_cursor_paging_walks_every_row_once(api, tree):
    made = {make_veteran(tree["village_a1"], name=f"周{i}").pk for i in range(7)}
    client, seen, url = api("village_a1"), [], LIST + "?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(made, reverse=True)


def test_closed_records_are_listed_on_request_and_retrievable(api, tree, users, a1_veteran):
    from datetime import date

    from apps.registry import services

    services.veteran_close(actor=users["village_a1"], veteran=a1_veteran, status="deceased", on=date(2024, 1, 1))
    client = api("village_a1")
    assert client.get(LIST).json()["results"] == []
    assert [r["status"] for r in client.get(LIST, {"status": "all"}).json()["results"]] == ["deceased"]
    assert client.get(detail(a1_veteran.pk)).status_code == 200


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(api, tree):
    client = api("street_a")
    tags = list(Code.objects.filter(kind="tag")[:2])
    cats = [category("退役士兵"), category("复员军人")]

    def add(n, start):
        for i in range(n):
            make_veteran(tree["village_a1" if i % 2 else "village_a2"], name=f"测{start + i}", categories=cats,
                         tags=tags, discharge_mode=Code.objects.get(kind="discharge_mode", name="自主就业"))

    add(5, 0)
    url = LIST + "?page_size=50"
    _queries(client, url)  # the first request after a code or unit changed reads them into memory
    few = _queries(client, url)
    add(25, 5)
    many = _queries(client, url)
    assert len(client.get(url).json()["results"]) == 30
    assert many == few, f"{few} queries for 5 rows, {many} for 30"
    # Token and user, permissions (2), roles, the caller's unit, the code-table version, rows, categories, tags.
    assert few <= 10


def test_family_list_query_count_does_not_grow(api, a1_veteran):
    from apps.registry import services

    client = api("village_a1")
    relation = Code.objects.get(kind="relation", name="配偶")
    for i in range(2):
        services.family_member_save(actor=None, veteran=a1_veteran, name=f"家{i}", relation=relation)
    _queries(client, family_list(a1_veteran.pk))  # reads the code tables into memory (first request)
    few = _queries(client, family_list(a1_veteran.pk))
    for i in range(2, 12):
        services.family_member_save(actor=None, veteran=a1_veteran, name=f"家{i}", relation=relation)
    assert _queries(client, family_list(a1_veteran.pk)) == few


# --- family members -------------------------------------------------------------------------------


def test_family_member_round_trip(api, tree, a1_veteran):
    client = api("village_a1")
    number = id_number("19720202", sequence=246)
    created = client.post(family_list(a1_veteran.pk), {"name": "刘梅", "relation": "配偶", "id_number": number,
                                                       "phone": "13700000000"}, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["veteran"] == a1_veteran.pk and data["relation"] == "配偶"
    assert number not in created.content.decode() and data["id_number_masked"].startswith("320111")
    member = FamilyMember.objects.get(pk=data["id"])
    assert member.id_number_hash

    changed = client.patch(family_detail(a1_veteran.pk, data["id"]), {"work_unit": "浦口区医院"}, format="json")
    assert changed.status_code == 200, changed.json()
    rows = client.get(family_list(a1_veteran.pk)).json()
    assert [(r["name"], r["work_unit"]) for r in rows] == [("刘梅", "浦口区医院")]
    assert client.get(family_detail(a1_veteran.pk, data["id"])).json()["name"] == "刘梅"

    again = client.post(family_list(a1_veteran.pk), {"name": "刘梅", "id_number": number}, format="json")
    assert again.status_code == 400 and "id_number" in again.json()
    bad = client.post(family_list(a1_veteran.pk), {"name": "错号", "id_number": number[:17] + "Y"}, format="json")
    assert bad.status_code == 400 and "id_number" in bad.json()


def test_family_out_of_scope_is_404(api, tree, a1_veteran):
    from apps.registry import services

    member = services.family_member_save(actor=None, veteran=a1_veteran, name="刘梅")
    other = make_veteran(tree["village_a2"], name="王芳")
    for who in ("village_a2", "street_b"):
        client = api(who)
        assert client.get(family_list(a1_veteran.pk)).status_code == 404, who
        assert client.get(family_detail(a1_veteran.pk, member.pk)).status_code == 404, who
        assert client.post(family_list(a1_veteran.pk), {"name": "x"}, format="json").status_code == 404, who
    # A member reached through another (visible) veteran's URL is not found either.
    assert api("street_a").get(family_detail(other.pk, member.pk)).status_code == 404
    assert api("enterprise").get(family_list(a1_veteran.pk)).status_code == 403


# --- schema ---------------------------------------------------------------------------------------


def test_schema_documents_the_registry_api(api):
    response = api("village_a1").get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/veterans/", "/api/v1/veterans/{id}/", "/api/v1/veterans/{veteran_pk}/family/",
            "/api/v1/veterans/{veteran_pk}/family/{id}/", "/api/v1/codes/"} <= set(paths)
    props = response.json()["components"]["schemas"]["Veteran"]["properties"]
    assert "/api/v1/codes/?kind=discharge_mode" in props["discharge_mode"]["description"]
    assert props["id_number"]["writeOnly"] is True


def test_codes_list(api):
    rows = api("village_a1").get(reverse("code-list"), {"kind": "discharge_mode"}).json()
    assert "自主就业" in [row["name"] for row in rows]
    assert api("enterprise").get(reverse("code-list")).status_code == 403

