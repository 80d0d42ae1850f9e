"""API tokens (issue 10, finding 8): stored as digests, shown once, expiring, revoked on password and
second-factor changes; and (finding 23) an over-long user name is a 400, not a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from apps.core import services
from tests.conftest import PASSWORD, login

ME = reverse("api-me")
NEW_PASSWORD = "Xq7#mPv2Lr9!"


def obtain(username: str = "village_a1", password: str = PASSWORD):
    return APIClient().post(reverse("api-token"), {"username": username, "password": password}, format="json")


def works(key: str) -> bool:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    status = api.get(ME).status_code
    assert status in (200, 401, 403)
    return status == 200


def test_token_is_stored_as_a_digest_and_shown_once(users):
    response = obtain()
    assert response.status_code == 200
    key = response.json()["token"]
    assert works(key)
    row = AuthToken.objects.get(user=users["village_a1"])
    assert key not in (row.digest, row.token_key) and row.token_key == key[:15]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token')")
        assert cursor.fetchone()[0] is None  # DRF's clear-text table is gone
        cursor.execute("SELECT count(*) FROM knox_authtoken WHERE digest = %s OR token_key = %s", [key, key])
        assert cursor.fetchone()[0] == 0


def test_a_new_token_replaces_the_old_one(users):
    first = obtain().json()["token"]
    second = obtain().json()["token"]
    assert first != second
    assert works(second) and not works(first)


def test_token_expires_after_the_configured_days(users, settings, time_machine):
    settings.API_TOKEN_TTL_DAYS = 2
    time_machine.move_to(timezone.now(), tick=False)
    response = obtain()
    key = response.json()["token"]
    expiry = AuthToken.objects.get(user=users["village_a1"]).expiry
    assert abs(expiry - (timezone.now() + timedelta(days=2))) < timedelta(seconds=5)
    time_machine.shift(timedelta(days=2) - timedelta(minutes=1))
    assert works(key)
    time_machine.shift(timedelta(minutes=2))
    assert not works(key)
    assert not AuthToken.objects.filter(user=users["village_a1"]).exists()


def test_profile_token_expires_too(client, users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    login(client, users["village_a1"])
    assert client.post(reverse("core:api_token_create")).status_code == 302
    token = AuthToken.objects.get(user=users["village_a1"])
    assert token.expiry is not None and token.expiry > timezone.now()


def test_changing_ones_password_revokes_tokens(client, users):
    key = obtain().json()["token"]
    login(client, users["village_a1"])
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not works(key)
    assert client.get(reverse("core:profile")).status_code == 200  # the session itself stays signed in


def test_administrator_setting_a_password_revokes_tokens(client, users):
    key = obtain().json()["token"]
    login(client, users["admin"])
    client.post(reverse("core:user_action", args=[users["village_a1"].pk, "password"]),
                {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not works(key)


def test_admin_site_password_change_revokes_tokens(client, users):
    key = obtain().json()["token"]
    from apps.core.models import User

    login(client, User.objects.create_superuser("root", password=PASSWORD))
    response = client.post(reverse("admin:auth_user_password_change", args=[users["village_a1"].pk]),
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302
    assert not works(key)


def test_second_factor_reset_revokes_tokens(client, users):
    TOTPDevice.objects.create(user=users["leader"], name="phone", confirmed=True)
    key = services.api_token_issue(user=users["leader"])[1]
    assert works(key)
    login(client, users["admin"])
    client.post(reverse("core:user_action", args=[users["leader"].pk, "reset-2fa"]))
    assert not works(key)


def test_malformed_token_headers_are_refused_not_500(users):
    api = APIClient()
    for header in ["Token \xff\xfe", "Token ", "Token a b", "Token " + "f" * 300]:
        api.credentials(HTTP_AUTHORIZATION=header)
        assert api.get(ME).status_code in (401, 403), header


# --- finding 23: over-long user names ---------------------------------------------------------


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_overlong_username_at_token_endpoint_is_400(users, length):
    response = obtain("a" * length, "whatever")
    assert response.status_code == 400
    assert "username" in response.json()


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_overlong_username_at_login_is_a_form_error(client, users, length):
    response = client.post(reverse("login"), {"username": "a" * length, "password": "whatever"})
    assert response.status_code == 200
    assert response.context["form"].errors
