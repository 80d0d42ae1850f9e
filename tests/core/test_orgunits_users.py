"""Org units and users: service rules, tree loading, the admin pages, demo data, production settings."""

from __future__ import annotations

import csv
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.core import services
from apps.core.choices import OrgLevel, Role
from apps.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TREE
from apps.core.models import OrgUnit, User
from tests.conftest import PASSWORD, login
from tests.versions import any_version

ROOT = Path(__file__).resolve().parent.parent.parent
NEW_PASSWORD = "Xq7#mPv2Lr9!"


# --- orgunit_create -------------------------------------------------------------------------


def test_levels_follow_depth(tree):
    assert [tree[n].level for n in ("district", "street_a", "village_a1")] == [
        OrgLevel.DISTRICT, OrgLevel.STREET, OrgLevel.COMMUNITY]
    assert OrgUnit.objects.get_parent(tree["street_a"]) == tree["district"]
    assert tree["village_a1"].full_name == "测试区 / 甲街道 / 甲一社区"


@pytest.mark.parametrize(
    ("parent", "code"),
    [
        ("district", "320112001000"),  # another county
        ("street_a", "320111002005"),  # a village code of street B under street A
    ],
)
def test_code_must_start_with_parent_prefix(tree, parent, code):
    with pytest.raises(ValidationError) as exc:
        services.orgunit_create(actor=None, parent=tree[parent], code=code, name="错挂")
    assert set(exc.value.message_dict) == {"code"}
    assert "区划代码必须以上级单位的代码前缀开头" in exc.value.message_dict["code"][0]
    assert not OrgUnit.objects.filter(code=code).exists()


def test_tree_is_at_most_three_levels(tree):
    with pytest.raises(ValidationError) as exc:
        services.orgunit_create(actor=None, parent=tree["village_a1"], code="320111001001", name="组")
    assert set(exc.value.message_dict) == {"parent"}
    assert "社区/村下不能再设下级单位" in exc.value.message_dict["parent"][0]


def test_duplicate_code_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        services.orgunit_create(actor=None, parent=tree["street_a"], code="320111001001", name="重复")
    assert set(exc.value.message_dict) == {"code"}
    assert "已存在" in exc.value.message_dict["code"][0]
    assert OrgUnit.objects.filter(code="320111001001").count() == 1


def test_child_is_placed_under_its_parent(tree):
    unit = services.orgunit_create(actor=None, parent=tree["street_b"], code="320111002009", name="乙九村",
                                   is_station=False)
    assert OrgUnit.objects.get_parent(unit) == tree["street_b"]
    assert unit.level == OrgLevel.COMMUNITY and unit.is_station is False
    assert OrgUnit.objects.get(pk=tree["street_b"].pk).numchild == 2


# --- orgunit_tree_load ----------------------------------------------------------------------


def test_tree_load_is_idempotent(db):
    assert services.orgunit_tree_load_csv(DEMO_TREE) == (109, 0)
    assert OrgUnit.objects.count() == 109
    assert OrgUnit.objects.filter(depth=1).count() == 1
    assert OrgUnit.objects.filter(depth=2, level=OrgLevel.STREET).count() == 9
    assert OrgUnit.objects.filter(depth=3, level=OrgLevel.COMMUNITY).count() == 99
    paths = dict(OrgUnit.objects.values_list("code", "path"))
    assert services.orgunit_tree_load_csv(DEMO_TREE) == (0, 0)
    assert dict(OrgUnit.objects.values_list("code", "path")) == paths
    # Every unit hangs under the unit its code names.
    for unit in OrgUnit.objects.filter(depth=3):
        assert OrgUnit.objects.get_parent(unit).code == unit.code[:9] + "000"


def test_tree_load_renames_and_adds(db):
    with open(DEMO_TREE, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    services.orgunit_tree_load(rows=rows)
    rows[5]["name"] = "改名社区"
    rows.append({"code": "320111001099", "name": " 新增社区 "})
    assert services.orgunit_tree_load(rows=rows) == (1, 1)
    assert OrgUnit.objects.get(code=rows[5]["code"]).name == "改名社区"
    assert OrgUnit.objects.get(code="320111001099").name == "新增社区"


def test_tree_load_is_all_or_nothing(db):
    rows = [{"code": "320111000000", "name": "区"}, {"code": "320111001000", "name": "街道"},
            {"code": "320111009001", "name": "没有上级的村"}]
    with pytest.raises(OrgUnit.DoesNotExist):
        services.orgunit_tree_load(rows=rows)
    assert OrgUnit.objects.count() == 0


def test_load_orgunits_command(db):
    out = StringIO()
    call_command("load_orgunits", str(DEMO_TREE), stdout=out)
    assert "created=109" in out.getvalue()


# --- the org-unit pages ---------------------------------------------------------------------


def test_admin_creates_an_org_unit(client, users, tree):
    login(client, users["admin"])
    response = client.post(reverse("core:orgunit_create"),
                           {"parent": tree["street_a"].pk, "code": "320111001077", "name": "新社区", "is_station": "on"})
    unit = OrgUnit.objects.get(code="320111001077")
    assert response.status_code == 302 and response["Location"] == unit.get_absolute_url()
    assert OrgUnit.objects.get_parent(unit) == tree["street_a"]


def test_org_unit_form_errors_are_chinese(client, users, tree):
    login(client, users["admin"])
    response = client.post(reverse("core:orgunit_create"), {"parent": tree["street_a"].pk, "code": "12345", "name": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["统计用区划代码必须是 12 位数字。"]
    response = client.post(reverse("core:orgunit_create"),
                           {"parent": tree["street_a"].pk, "code": "320111002077", "name": "错挂"})
    assert response.status_code == 200
    assert "区划代码必须以上级单位的代码前缀开头" in response.content.decode()


def test_org_unit_detail_lists_children_and_staff(client, users, tree):
    login(client, users["street_a"])
    response = client.get(reverse("core:orgunit_detail", args=[tree["street_a"].pk]))
    assert response.status_code == 200
    assert {u.name for u in response.context["children"]} == {"甲一社区", "甲二村"}
    assert [u.username for u in response.context["staff"]] == ["street_a"]


# --- users through the views ----------------------------------------------------------------


def _user_form(tree, **changes) -> dict:
    data = {"username": "sun_a1", "real_name": "孙专干", "phone": "13900000000", "email": "sun@example.com",
            "org_unit": tree["village_a1"].pk, "roles": [Role.VILLAGE_STATION.value],
            "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    data.update(changes)
    return data


def test_admin_creates_a_user(client, users, tree):
    login(client, users["admin"])
    response = client.post(reverse("core:user_create"), _user_form(tree))
    account = User.objects.get(username="sun_a1")
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert account.org_unit == tree["village_a1"]
    assert account.role_names == {Role.VILLAGE_STATION.value}
    assert account.check_password(NEW_PASSWORD)
    assert not account.is_staff


def test_admin_role_makes_staff(client, users, tree):
    login(client, users["admin"])
    client.post(reverse("core:user_create"), _user_form(tree, username="ops", org_unit=tree["district"].pk,
                                                      roles=[Role.ADMIN.value]))
    assert User.objects.get(username="ops").is_staff


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"org_unit": "STREET_A"}, "org_unit", "村(社区)服务站用户的所属单位必须是社区或村"),
        ({"roles": [Role.STREET_STATION.value]}, "org_unit", "街道(镇)服务站用户的所属单位必须是街道或镇"),
        ({"org_unit": ""}, "org_unit", "服务站工作人员必须指定所属单位"),
        ({"password2": "Other#Passw0rd"}, "password2", "两次输入的密码不一致"),
        ({"username": "village_a1"}, "username", "该用户名已被使用"),
        ({"phone": "12345"}, "phone", "请输入 11 位手机号码"),
    ],
    ids=["village-user-in-street", "street-user-in-village", "station-user-without-unit", "password-mismatch",
         "taken-username", "bad-phone"],
)
def test_user_form_errors_are_chinese(client, users, tree, changes, field, text):
    login(client, users["admin"])
    if changes.get("org_unit") == "STREET_A":
        changes = {**changes, "org_unit": tree["street_a"].pk}
    response = client.post(reverse("core:user_create"), _user_form(tree, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert text in " ".join(errors[field]), errors[field]
    assert not User.objects.filter(username="sun_a1").exists()


def test_weak_password_in_the_form_is_refused_in_chinese(client, users, tree):
    login(client, users["admin"])
    response = client.post(reverse("core:user_create"), _user_form(tree, password1="qmzvtrplkdw8", password2="qmzvtrplkdw8"))
    assert response.status_code == 200
    assert "密码" in " ".join(response.context["form"].non_field_errors() + response.context["form"].errors.get("password1", []))
    assert not User.objects.filter(username="sun_a1").exists()


def test_admin_edits_a_user(client, users, tree):
    login(client, users["admin"])
    account = users["village_a1"]
    response = client.post(reverse("core:user_edit", args=[account.pk]), {
        "real_name": "甲一专干", "phone": "", "email": "", "org_unit": tree["street_a"].pk,
        "roles": [Role.STREET_STATION.value], "is_active": "on", "version": any_version(account)})
    assert response.status_code == 302
    account = User.objects.get(pk=account.pk)
    assert (account.real_name, account.org_unit, account.role_names) == (
        "甲一专干", tree["street_a"], {Role.STREET_STATION.value})


def test_edit_with_wrong_unit_shows_the_error(client, users, tree):
    login(client, users["admin"])
    account = users["village_a1"]
    response = client.post(reverse("core:user_edit", args=[account.pk]), {
        "real_name": "甲一", "org_unit": tree["street_a"].pk, "roles": [Role.VILLAGE_STATION.value], "is_active": "on",
        "version": any_version(account)})
    assert response.status_code == 200
    assert "村(社区)服务站用户的所属单位必须是社区或村" in response.content.decode()
    assert User.objects.get(pk=account.pk).org_unit == tree["village_a1"]


def test_deactivated_user_cannot_log_in(client, users, tree):
    login(client, users["admin"])
    account = users["village_a1"]
    client.post(reverse("core:user_edit", args=[account.pk]), {
        "real_name": "甲一", "org_unit": tree["village_a1"].pk, "roles": [Role.VILLAGE_STATION.value],
        "version": any_version(account)})
    assert not User.objects.get(pk=account.pk).is_active
    client.logout()
    response = client.post("/account/login/", {"username": "village_a1", "password": PASSWORD})
    assert response.status_code == 200


def test_admin_sets_a_password(client, users):
    login(client, users["admin"])
    account = users["village_a1"]
    response = client.post(reverse("core:user_action", args=[account.pk, "password"]),
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=account.pk).check_password(NEW_PASSWORD)
    response = client.post(reverse("core:user_action", args=[account.pk, "password"]),
                           {"new_password1": "short", "new_password2": "short"}, follow=True)
    assert User.objects.get(pk=account.pk).check_password(NEW_PASSWORD)
    assert "密码" in " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize("page", ["core:user_list", "core:user_create", "core:user_detail", "core:user_edit"])
def test_station_users_cannot_open_user_pages(client, users, page):
    args = [users["village_a1"].pk] if page in ("core:user_detail", "core:user_edit") else []
    for who in ["street_a", "village_a1", "leader", "bureau"]:
        login(client, users[who])
        assert client.get(reverse(page, args=args)).status_code == 403, who


def test_user_list_filters(client, users, tree):
    login(client, users["admin"])
    url = reverse("core:user_list")

    def names(**params):
        return {u.username for u in client.get(url, params).context["object_list"]}

    assert names(unit=tree["street_a"].pk) == {"street_a", "village_a1", "village_a2"}
    assert names(role=Role.STREET_STATION.value) == {"street_a", "street_b"}
    assert names(q="village_b") == {"village_b1"}
    # htmx gets the table only
    partial = client.get(url, {"q": "village"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "village_a1" in partial.content.decode()


def test_unit_manager_can_only_place_users_in_own_subtree(client, users, tree, make_user):
    """The unit dropdown of a street-level user manager lists only the street's own subtree."""
    managers = Group.objects.create(name="测试-用户管理")
    managers.permissions.set(Permission.objects.filter(content_type__app_label="core", codename="manage_users"))
    manager = make_user(Role.STREET_STATION, tree["street_a"], "manager_a")
    manager.groups.add(managers)
    login(client, User.objects.get(pk=manager.pk))
    form = client.get(reverse("core:user_create")).context["form"]
    assert set(form.fields["org_unit"].queryset.values_list("code", flat=True)) == {
        "320111001000", "320111001001", "320111001201"}
    response = client.post(reverse("core:user_create"), _user_form(tree, org_unit=tree["village_b1"].pk))
    assert response.status_code == 200 and "org_unit" in response.context["form"].errors
    assert not User.objects.filter(username="sun_a1").exists()
    # The list shows the street's users only.
    listed = {u.username for u in client.get(reverse("core:user_list")).context["object_list"]}
    assert listed == {"street_a", "village_a1", "village_a2", "manager_a"}


# --- demo data ------------------------------------------------------------------------------


def test_seed_demo_twice(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (OrgUnit.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (OrgUnit.objects.count(), User.objects.count()) == counts == (109, len(DEMO_ACCOUNTS))
    for username, real_name, role, code in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.real_name == real_name
        assert user.role_names == {role.value}
        assert user.org_unit.code == (code or "320111000000")
        assert user.check_password(DEMO_PASSWORD)


def test_seed_demo_password_option_resets_passwords(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", password=NEW_PASSWORD, stdout=StringIO())
    assert all(u.check_password(NEW_PASSWORD) for u in User.objects.all())


# --- production settings --------------------------------------------------------------------


def _production(tmp_path, **overrides) -> subprocess.CompletedProcess:
    """``manage.py check --deploy`` on a source checkout (collectstatic not run: empty STATIC_ROOT)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG",
                        "DJANGO_ALLOW_ASYNC_UNSAFE")}  # set by the browser tests in this process
    env.update({
        "DJANGO_SETTINGS_MODULE": "veterans_portal.settings.production",
        "STATIC_ROOT": str(tmp_path / "static"),
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://portal@127.0.0.1:5432/veterans_portal",
    })
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def no_dotenv():
    dotenv = ROOT / ".env"
    if dotenv.exists() and any(k in dotenv.read_text() for k in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")):
        pytest.skip(".env sets the production secrets; the missing-variable checks cannot run here")


def test_production_check_deploy_is_clean(no_dotenv, tmp_path):
    result = _production(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("variable", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without(no_dotenv, tmp_path, variable):
    result = _production(tmp_path, **{variable: None})
    assert result.returncode != 0
    assert f"Missing required environment variable {variable}" in result.stderr
    assert "System check identified" not in result.stdout
