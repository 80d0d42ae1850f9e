"""REST API of the registry: scoping, masking, validation through the services, paging, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from apps.core.models import AccessLog
from apps.registry.models import Code, ExportedVeteran, FamilyMember, Veteran
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
    assert "id_number" not in props  # write-only: in the request body only
    request_props = response.json()["components"]["schemas"]["VeteranRequest"]["properties"]
    assert request_props["id_number"]["writeOnly"] is True


def test_schema_documents_errors_and_the_names_fields_take(api):
    """Issue 10 finding 26: every answer an operation can give is documented; name-valued fields list the names."""
    schema = api("village_a1").get(reverse("api-schema"), {"format": "json"}).json()
    operations = schema["paths"]
    assert {"200", "400", "401", "403"} <= set(operations["/api/v1/veterans/"]["get"]["responses"])
    assert {"201", "400", "401", "403", "415"} <= set(operations["/api/v1/veterans/"]["post"]["responses"])
    assert {"200", "400", "401", "403", "404", "415"} <= set(operations["/api/v1/veterans/{id}/"]["patch"]["responses"])
    assert {"200", "401", "403", "404"} <= set(operations["/api/v1/veterans/{veteran_pk}/family/"]["get"]["responses"])
    assert set(operations["/api/v1/veterans/"]) == {"get", "post"}
    assert list(operations["/api/v1/veterans/"]["post"]["requestBody"]["content"]) == ["application/json"]
    components = schema["components"]["schemas"]
    enum_of = {name: component.get("enum") for name, component in components.items()}
    assert "自主就业" in enum_of["DischargeModeEnum"]
    assert enum_of["OrgUnitEnum"] == ["320111001001"]  # the units village A1 may use
    page_size = next(p for p in operations["/api/v1/veterans/"]["get"]["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}


def test_codes_list(api):
    rows = api("village_a1").get(reverse("code-list"), {"kind": "discharge_mode"}).json()
    assert "自主就业" in [row["name"] for row in rows]
    assert api("enterprise").get(reverse("code-list")).status_code == 403



# --- issue 10: bulk reads are logged and bounded (3), family reads are logged (9) -------------------


def token_client(username: str) -> APIClient:
    """A client holding a token issued by ``/api/v1/auth/token/`` (the way scripts obtain one)."""
    from tests.conftest import PASSWORD

    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post(reverse("api-token"), {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def session_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_every_list_page_is_logged_like_an_export(api, users, tree, a1_veteran):
    other = make_veteran(tree["village_a1"], name="王芳", primary_category=category("复员军人"))
    response = api("street_a").get(LIST, {"category": category("复员军人").pk, "q": "王"})
    assert [row["id"] for row in response.json()["results"]] == [other.pk]
    entry = AccessLog.objects.get(user=users["street_a"])
    assert entry.action == "export"
    assert entry.detail["api"] == "veterans"
    assert entry.detail["filters"] == {"category": [str(category("复员军人").pk)], "q": ["王"]}
    assert entry.detail["rows"] == 1 and entry.detail["ids"] == [other.pk]
    assert any("复员军人" in shown for shown in entry.detail["filters_shown"])
    # The page names the people it contained, so it shows on their "who viewed or exported" tab.
    assert list(ExportedVeteran.objects.filter(entry=entry).values_list("veteran_id", flat=True)) == [other.pk]
    api("street_a").get(LIST, {"page_size": 1})
    api("street_a").get(LIST, {"page_size": 1, "cursor": api("street_a").get(LIST, {"page_size": 1}).json()["next"]
                               .split("cursor=")[1].split("&")[0].replace("%3D", "=")})
    assert AccessLog.objects.filter(user=users["street_a"], action="export").count() == 4


@pytest.mark.parametrize("how", ["token", "session"])
def test_paging_past_the_limit_needs_the_export_permission(settings, users, tree, how):
    settings.API_LIST_MAX_ROWS_WITHOUT_EXPORT = 5
    made = sorted((make_veteran(tree["village_a1"], name=f"周{i}").pk for i in range(8)), reverse=True)

    def walk(who, **params):
        client = token_client(who) if how == "token" else session_client(users[who])
        seen, url, statuses = [], LIST + "?" + "&".join(f"{k}={v}" for k, v in params.items()), []
        while url:
            response = client.get(url)
            statuses.append(response.status_code)
            if response.status_code != 200:
                return seen, statuses, response
            seen += [row["id"] for row in response.json()["results"]]
            url = response.json()["next"]
        return seen, statuses, None

    # 局领导 reads (no export permission): the first five rows, not the sixth.
    seen, statuses, refused = walk("leader", page_size=3)
    assert seen == made[:3] and statuses == [200, 403]
    assert "导出" in refused.json()["detail"]
    assert walk("leader", page_size=5)[0] == made[:5]
    assert walk("leader", page_size=6)[1] == [403]
    # A narrower listing of at most five rows is read to its end.
    assert walk("leader", page_size=2, unit=tree["village_a2"].pk)[1] == [200]
    # A station may export: it pages through everything.
    seen, statuses, refused = walk("street_a", page_size=3)
    assert seen == made and refused is None
    # Served pages are logged; the refused one is not.
    assert AccessLog.objects.filter(user=users["leader"], action="export").count() == 1 + 1 + 1
    assert AccessLog.objects.filter(user=users["street_a"], action="export").count() == 3


def test_reading_family_members_is_logged_on_the_person(api, users, a1_veteran):
    from django.contrib.contenttypes.models import ContentType

    from apps.registry import services

    member = services.family_member_save(actor=None, veteran=a1_veteran, name="刘梅")
    assert api("street_a").get(family_list(a1_veteran.pk)).status_code == 200
    assert api("street_a").get(family_detail(a1_veteran.pk, member.pk)).status_code == 200
    entries = AccessLog.objects.filter(user=users["street_a"], content_type=ContentType.objects.get_for_model(Veteran),
                                       object_id=str(a1_veteran.pk)).order_by("id")
    assert [(e.action, e.detail) for e in entries] == [
        ("view", {"api": "family", "family_members": [member.pk]})] * 2
    assert api("village_a2").get(family_list(a1_veteran.pk)).status_code == 404
    assert not AccessLog.objects.filter(user=users["village_a2"]).exists()


# --- issue 10 finding 10: unreadable cursors, sizes and filters are a 400, not a 500 -----------------------


def test_bad_cursor_page_size_or_unit_is_a_400(api, tree, a1_veteran):
    import base64

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    client = api("village_a1")
    for cursor in ("zzz", encoded("o=1&p=abc"), encoded("p=1.5"), encoded("r=x"), encoded("p=-1"),
                   encoded("p=99999999999999999999999"), encoded("o=-3")):
        response = client.get(LIST, {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert list(response.json()) == ["cursor"]
    assert client.get(LIST, {"cursor": encoded("p=1")}).status_code == 200
    for size in ("abc", "0", "-1", "201", "1.5"):
        response = client.get(LIST, {"page_size": size})
        assert response.status_code == 400, size
        assert list(response.json()) == ["page_size"]
    for unit in ("abc", "1.5", "-1", "1e3"):
        response = client.get(LIST, {"unit": unit})
        assert response.status_code == 400, unit
        assert list(response.json()) == ["unit"]


# --- issue 10 finding 23: NUL characters are a 400 naming the field ------------------------------------------


VETERAN_STRING_FIELDS = ["ethnic", "political", "education", "marital", "health", "primary_category", "branch",
                         "military_category", "rank", "discharge_mode", "certificate_type", "placement_unit_nature",
                         "employment", "org_unit", "name", "address", "notes", "hukou_type"]


def test_nul_in_any_veteran_field_is_a_400(api, tree, a1_veteran):
    client = api("village_a1")
    before = a1_veteran.updated_at
    for field in [*VETERAN_STRING_FIELDS, "categories", "tags"]:
        value = ["退役士兵\x00"] if field in ("categories", "tags") else "退\x00役"
        created = client.post(LIST, new_person(tree, **{field: value}), format="json")
        assert created.status_code == 400, (field, created.status_code)
        assert list(created.json()) == [field]
        assert created.json()[field] == ["不能包含空字符（\\x00）。"]
        patched = client.patch(detail(a1_veteran.pk), {field: value}, format="json")
        assert patched.status_code == 400 and list(patched.json()) == [field], field
        full = {**client.get(detail(a1_veteran.pk)).json(), field: value}
        put = client.put(detail(a1_veteran.pk), {k: v for k, v in full.items() if v is not None}, format="json")
        assert put.status_code == 400 and field in put.json(), field
    # A form body is not taken (JSON only, as documented); unknown keys are ignored, NUL or not.
    assert client.post(LIST, {**new_person(tree), "rank": "上等兵"}).status_code == 415
    assert client.patch(detail(a1_veteran.pk), {"ra\x00nk": "x\x00"}, format="json").status_code == 200
    a1_veteran.refresh_from_db()
    before = a1_veteran.updated_at
    assert Veteran.objects.count() == 1
    a1_veteran.refresh_from_db()
    assert a1_veteran.updated_at == before


def test_nul_in_family_fields_and_searches_is_a_400(api, a1_veteran):
    from apps.registry import services

    client = api("village_a1")
    member = services.family_member_save(actor=None, veteran=a1_veteran, name="刘梅")
    for field in ("rank", "relation", "health", "military_category", "name", "work_unit", "id_number"):
        response = client.post(family_list(a1_veteran.pk), {"name": "刘", field: "a\x00"}, format="json")
        assert response.status_code == 400 and list(response.json()) == [field], field
        response = client.patch(family_detail(a1_veteran.pk, member.pk), {field: "a\x00"}, format="json")
        assert response.status_code == 400 and list(response.json()) == [field], field
    assert FamilyMember.objects.count() == 1
    assert client.get(reverse("orgunit-list"), {"q": "甲\x00"}).status_code == 400
    assert client.get(LIST, {"q": "张\x00"}).status_code == 400


def test_a_family_url_with_no_veteran_id_is_a_json_404(api):
    response = api("village_a1").get("/api/v1/veterans/null,null/family/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_a_change_leaves_identity_out_and_takes_it_repeated_unchanged(api, tree, a1_veteran):
    """Issue 10 finding 26: ``id_number: ""`` on PUT (the schema's change body has no ID number) is accepted."""
    client = api("village_a1")
    full = {k: v for k, v in client.get(detail(a1_veteran.pk)).json().items() if v is not None}
    response = client.put(detail(a1_veteran.pk), {**full, "id_number": "", "address": "新地址"}, format="json")
    assert response.status_code == 200, response.json()
    assert client.patch(detail(a1_veteran.pk), {"org_unit": tree["village_a1"].code, "sex": a1_veteran.sex},
                        format="json").status_code == 200
    assert set(client.patch(detail(a1_veteran.pk), {"birth_date": "1900-01-01"}, format="json").json()) == {"birth_date"}
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()["components"]["schemas"]
    assert not {"id_number", "org_unit", "sex", "birth_date"} & set(schema["PatchedVeteranUpdateRequest"]["properties"])
    assert "id_number" in schema["VeteranRequest"]["properties"]
