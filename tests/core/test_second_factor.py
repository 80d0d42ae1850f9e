"""Second factor (issue 10, findings 1 and 2): a password alone never enrols, verifies or removes a factor."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from apps.core import services
from apps.core.choices import AccessAction
from apps.core.models import AccessLog
from apps.core.views.account import SETUP_DEVICE_KEY
from tests.conftest import PASSWORD, api_token, login, login_password_only

SETUP, VERIFY, DISABLE = reverse("core:otp_setup"), reverse("core:otp_verify"), reverse("core:otp_disable")


def code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def wrong(device: TOTPDevice) -> str:
    return f"{(int(code(device)) + 1) % 1_000_000:06d}"


def password_step(client, username: str) -> None:
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def is_verified(client) -> bool:
    """Whether the session may open administrator pages (the middleware lets a verified session through)."""
    return client.get(reverse("core:user_list")).status_code == 200


def sent_to_verify(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(VERIFY)


# --- finding 1: enrolment ---------------------------------------------------------------------


def test_password_only_admin_cannot_enrol_a_second_device(users):
    """The reported attack: a password-only session posts the enrolment page with a wrong code to get a new
    secret, then a valid code for it. It gets no secret, is not verified and keeps no device."""
    admin = users["admin"]
    phone = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    attacker = Client()
    password_step(attacker, "admin")

    response = attacker.post(SETUP, {"token": "123456"})
    assert sent_to_verify(response)
    assert "otp-secret" not in response.content.decode()
    assert sent_to_verify(attacker.get(SETUP))
    assert list(TOTPDevice.objects.filter(user=admin)) == [phone]  # no new secret was made

    # Even holding an unconfirmed device of its own (a secret shown before this rule), a valid code for it
    # neither confirms it nor verifies the session.
    planted = TOTPDevice.objects.create(user=admin, name="default", confirmed=False)
    session = attacker.session
    session[SETUP_DEVICE_KEY] = planted.pk
    session.save()
    assert sent_to_verify(attacker.post(SETUP, {"token": code(planted)}))
    planted.refresh_from_db()
    assert not planted.confirmed
    assert not is_verified(attacker)
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1
    with pytest.raises(ValidationError):
        services.second_factor_enrol(user=admin, device=planted, token=code(planted), session_verified=False)
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1


def test_first_enrolment_verifies_the_session(users):
    client = Client()
    password_step(client, "admin")
    assert client.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user=users["admin"], confirmed=False)
    response = client.post(SETUP, {"token": code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("core:home")
    assert is_verified(client)


def test_each_session_enrols_its_own_device(users):
    """Two password-only sessions of a user without a device are shown different secrets; once one enrolled,
    the other's code is refused and its session stays unverified."""
    first, second = Client(), Client()
    password_step(first, "admin")
    password_step(second, "admin")
    first.get(SETUP)
    second.get(SETUP)
    mine, theirs = TOTPDevice.objects.filter(user=users["admin"], confirmed=False).order_by("pk")
    assert mine.key != theirs.key
    their_code = code(theirs)
    assert first.post(SETUP, {"token": code(mine)}).status_code == 302
    assert sent_to_verify(second.post(SETUP, {"token": their_code}))
    assert list(TOTPDevice.objects.filter(user=users["admin"]).values_list("pk", flat=True)) == [mine.pk]
    assert not is_verified(second)


def test_session_is_verified_only_by_a_device_confirmed_before_it_began(users):
    early = Client()
    password_step(early, "admin")  # a password-only session, before any device exists
    owner = Client()
    password_step(owner, "admin")
    owner.get(SETUP)
    device = TOTPDevice.objects.get(user=users["admin"], confirmed=False)
    assert owner.post(SETUP, {"token": code(device)}).status_code == 302

    device.refresh_from_db()
    device.last_t = -1  # the code may be entered again: only the device's age is at stake here
    device.save()
    response = early.post(VERIFY, {"token": code(device)})
    assert response.status_code == 200 and response.context["form"].errors
    assert not is_verified(early)

    later = Client()  # a session begun after the device was confirmed is verified by it
    password_step(later, "admin")
    device.refresh_from_db()
    device.last_t, device.throttling_failure_count, device.throttling_failure_timestamp = -1, 0, None
    device.save()
    assert later.post(VERIFY, {"token": code(device)}).status_code == 302
    assert is_verified(later)


def test_verified_session_may_add_a_further_device(client, users):
    login(client, users["admin"])
    page = client.get(SETUP)
    assert page.status_code == 200 and page.context["adding"]
    added = TOTPDevice.objects.get(user=users["admin"], confirmed=False)
    assert client.post(SETUP, {"token": code(added)}).status_code == 302
    assert TOTPDevice.objects.filter(user=users["admin"], confirmed=True).count() == 2
    assert is_verified(client)


# --- finding 2: turning off and resetting -----------------------------------------------------


@pytest.fixture
def leader_device(users):
    return TOTPDevice.objects.create(user=users["leader"], name="phone", confirmed=True)


def verified_login(client, user, device) -> None:
    login(client, user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


def test_password_only_session_cannot_turn_the_factor_off(client, users, leader_device):
    login_password_only(client, users["leader"])
    response = client.post(DISABLE, {"token": code(leader_device)})
    assert sent_to_verify(response)
    assert TOTPDevice.objects.filter(user=users["leader"], confirmed=True).exists()


def test_turning_off_needs_a_current_code(client, users, leader_device):
    verified_login(client, users["leader"], leader_device)
    token = api_token(users["leader"])
    for data in ({}, {"token": "abc"}, {"token": wrong(leader_device)}):
        assert client.post(DISABLE, data).status_code == 302
        assert TOTPDevice.objects.filter(user=users["leader"], confirmed=True).exists(), data
    leader_device.throttling_failure_count, leader_device.throttling_failure_timestamp = 0, None
    leader_device.save()
    response = client.post(DISABLE, {"token": code(leader_device)})
    assert response.status_code == 302 and response["Location"] == reverse("core:profile")
    assert not TOTPDevice.objects.filter(user=users["leader"]).exists()
    entry = AccessLog.objects.get(action=AccessAction.SECOND_FACTOR)
    assert entry.user == users["leader"] and entry.object_id == str(users["leader"].pk)
    assert not AuthToken.objects.filter(user=users["leader"]).exists(), token


def test_administrator_resets_another_user_logged(client, users, leader_device):
    login(client, users["admin"])
    response = client.post(reverse("core:user_action", args=[users["leader"].pk, "reset-2fa"]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=users["leader"]).exists()
    entry = AccessLog.objects.get(action=AccessAction.SECOND_FACTOR)
    assert entry.user == users["admin"] and entry.object_id == str(users["leader"].pk)
    assert entry.detail == {"change": "reset", "devices_removed": 1}


def test_administrator_cannot_reset_own_factor_as_an_action(client, users):
    login(client, users["admin"])
    client.post(reverse("core:user_action", args=[users["admin"].pk, "reset-2fa"]))
    assert TOTPDevice.objects.filter(user=users["admin"], confirmed=True).exists()
    assert not AccessLog.objects.filter(action=AccessAction.SECOND_FACTOR).exists()


def test_verified_session_matches_the_verify_view(users):
    """The matrix's "verified session" (tests.conftest.login) is the state the real second step leaves."""
    device = TOTPDevice.objects.create(user=users["admin"], name="phone", confirmed=True)
    real = Client()
    password_step(real, "admin")
    assert real.post(VERIFY, {"token": code(device)}).status_code == 302
    helper = Client()
    login(helper, users["admin"])
    assert real.session["otp_device_id"] == device.persistent_id
    assert helper.session["otp_device_id"].startswith("otp_totp.totpdevice/")
    assert is_verified(real) and is_verified(helper)
    password_only = Client()
    login_password_only(password_only, users["admin"])
    assert "otp_device_id" not in password_only.session and not is_verified(password_only)
