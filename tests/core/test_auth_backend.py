"""The page shell's user: loaded with unit and roles in one query, permissions in one more, the same answers
as Django's ModelBackend."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.auth import PortalBackend, has_confirmed_device
from apps.core.choices import Role
from apps.core.models import User

pytestmark = pytest.mark.django_db


def test_user_comes_with_unit_roles_permissions_and_device_in_one_query(users, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = PortalBackend().get_user(users["street_a"].pk)
        assert user.org_unit.name == users["street_a"].org_unit.name
        assert user.role_names == {Role.STREET_STATION.value}
        assert user.has_station_scope and not user.sees_whole_district
        assert user.has_perm("registry.view_veteran") and not user.has_perm("core.view_audit")
        assert not has_confirmed_device(user)
    assert user.get_all_permissions() == ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))


def test_a_loaded_user_knows_a_confirmed_device(users):
    StaticDevice.objects.create(user=users["bureau"], name="backup", confirmed=True)
    assert has_confirmed_device(PortalBackend().get_user(users["bureau"].pk))
    assert not has_confirmed_device(PortalBackend().get_user(users["leader"].pk))


def test_a_superuser_keeps_every_permission(make_user):
    boss = make_user(None, None, "boss")
    User.objects.filter(pk=boss.pk).update(is_superuser=True)
    loaded = PortalBackend().get_user(boss.pk)
    assert loaded.get_all_permissions() == {f"{p.content_type.app_label}.{p.codename}"
                                            for p in Permission.objects.select_related("content_type")}


def test_user_without_roles_or_unit(make_user):
    nobody = make_user(None, None, "nobody")
    user = PortalBackend().get_user(nobody.pk)
    assert user.role_names == frozenset() and user.org_unit is None


def test_inactive_or_missing_users_are_not_loaded(users):
    User.objects.filter(pk=users["bureau"].pk).update(is_active=False)
    assert PortalBackend().get_user(users["bureau"].pk) is None
    assert PortalBackend().get_user(10**9) is None


@pytest.mark.parametrize("who", ["admin", "leader", "bureau", "street_a", "village_a1"])
def test_permissions_are_those_of_model_backend_in_one_query(users, who, django_assert_num_queries):
    user = User.objects.get(pk=users[who].pk)
    user.user_permissions.add(Permission.objects.get(codename="view_logentry"))  # one of the user's own
    expected = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    fresh = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert PortalBackend().get_all_permissions(fresh) == expected
        assert PortalBackend().has_perm(fresh, "admin.view_logentry")
    assert "admin.view_logentry" in expected


def test_confirmed_device_of_either_kind_counts(users):
    user = users["bureau"]
    assert not has_confirmed_device(user)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    assert not has_confirmed_device(user)
    StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    assert has_confirmed_device(user)
    StaticDevice.objects.all().delete()
    TOTPDevice.objects.update(confirmed=True)
    assert has_confirmed_device(user)
