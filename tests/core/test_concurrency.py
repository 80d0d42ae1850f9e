"""Optimistic concurrency (issue 10, finding 19) for the administrators' forms, and the shared mechanism."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from apps.core import concurrency
from apps.core.choices import Role
from apps.core.models import OrgUnit, User
from tests.conftest import login
from tests.versions import form_fields


def test_stale_org_unit_form_is_refused(users, tree):
    unit = tree["village_a1"]
    url = reverse("core:orgunit_edit", args=[unit.pk])
    first, second = Client(), Client()
    login(first, users["admin"])
    login(second, users["admin"])
    one, two = form_fields(first.get(url).content.decode()), form_fields(second.get(url).content.decode())
    one["name"] = "甲一新社区"
    assert first.post(url, one).status_code == 302
    two.pop("is_station", None)  # the second editor switches the station off on the old form
    response = second.post(url, two)
    assert response.status_code == 200
    page = response.content.decode()
    assert "他人" in page and "甲一新社区" in page
    unit = OrgUnit.objects.get(pk=unit.pk)
    assert unit.name == "甲一新社区" and unit.is_station


def test_stale_user_form_is_refused_roles_included(users, tree):
    account = users["village_a1"]
    url = reverse("core:user_edit", args=[account.pk])
    first, second = Client(), Client()
    login(first, users["admin"])
    login(second, users["admin"])
    one, two = form_fields(first.get(url).content.decode()), form_fields(second.get(url).content.decode())
    one["roles"] = [Role.VILLAGE_STATION.value, Role.ENTERPRISE.value]
    assert first.post(url, one).status_code == 302
    two["phone"] = "13500000000"
    response = second.post(url, two)
    assert response.status_code == 200 and "企业联络人" in response.content.decode()
    account = User.objects.get(pk=account.pk)
    assert account.role_names == {Role.VILLAGE_STATION.value, Role.ENTERPRISE.value} and account.phone == ""
    # The form shown again carries the current roles and version: saving it keeps the first editor's roles.
    again = form_fields(response.content.decode())
    assert second.post(url, again).status_code == 302
    account = User.objects.get(pk=account.pk)
    assert account.role_names == {Role.VILLAGE_STATION.value, Role.ENTERPRISE.value} and account.phone == "13500000000"


def test_a_tampered_or_foreign_version_is_stale(tree):
    unit = tree["village_a1"]
    token = concurrency.version_token(unit, ["name", "is_station"])
    assert concurrency.changed_fields(unit, token) == []
    assert concurrency.changed_fields(unit, token[:-2] + "xx") is None
    assert concurrency.changed_fields(tree["village_a2"], token) == ["name"]  # the values are compared
    unit.name = "别名"
    assert concurrency.changed_fields(unit, token) == ["name"]
