"""Login security through the real login view: lockout, password rules, idle timeout, second factor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.choices import Role
from apps.core.services import user_create
from apps.core.validators import CharacterClassValidator
from tests.conftest import PASSWORD, login

LOGIN_URL = "/account/login/"
WRONG = "Wrong#Passw0rd"


def attempt(client, username: str, password: str, ip: str = "10.0.0.1", **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def logged_in_as(client) -> str | None:
    """The user name the client's session belongs to (None when anonymous)."""
    response = client.get(reverse("api-me"))
    return response.json()["username"] if response.status_code == 200 else None


def is_locked_page(response) -> bool:
    return response.status_code == 429 and "锁定" in response.content.decode()


# --- lockout --------------------------------------------------------------------------------


def test_successful_login(client, users):
    response = attempt(client, "village_a1", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("core:home")
    assert logged_in_as(client) == "village_a1"


def test_wrong_password_message_is_chinese(client, users):
    response = attempt(client, "village_a1", WRONG)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "密码" in errors and "5" in errors and "15" in errors, errors
    assert logged_in_as(client) is None


def test_four_failures_do_not_lock(client, users):
    for i in range(4):
        assert attempt(client, "village_a1", WRONG, ip=f"10.0.1.{i}").status_code == 200
    assert attempt(client, "village_a1", PASSWORD, ip="10.0.1.99").status_code == 302
    assert logged_in_as(client) == "village_a1"


def test_lockout_by_username(client, users):
    # Each try from another address: only the user-name counter reaches the limit.
    responses = [attempt(client, "village_a1", WRONG, ip=f"10.0.2.{i}") for i in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert is_locked_page(responses[4])
    # The right password, from a fresh address, is refused with the Chinese lockout page.
    response = attempt(client, "village_a1", PASSWORD, ip="10.0.2.99")
    assert is_locked_page(response), response.status_code
    assert logged_in_as(client) is None
    # Another user from yet another address is not affected.
    assert attempt(client, "village_a2", PASSWORD, ip="10.0.2.100").status_code == 302


def test_lockout_by_ip_address(client, users):
    for i in range(5):
        attempt(client, f"nosuchuser{i}", WRONG, ip="10.0.3.1")
    # A real user with the right password from the same address is refused ...
    assert is_locked_page(attempt(client, "village_a1", PASSWORD, ip="10.0.3.1"))
    assert logged_in_as(client) is None
    # ... but can log in from another address.
    assert attempt(client, "village_a1", PASSWORD, ip="10.0.3.2").status_code == 302
    assert logged_in_as(client) == "village_a1"


def test_lockout_expires_after_15_minutes(client, users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for i in range(5):
        attempt(client, "village_a1", WRONG, ip=f"10.0.4.{i}")
    time_machine.shift(timedelta(minutes=14))
    assert is_locked_page(attempt(client, "village_a1", PASSWORD, ip="10.0.4.99"))
    # 15 minutes after the last failure (the refused try above does not extend the lockout).
    time_machine.shift(timedelta(minutes=1, seconds=1))
    assert attempt(client, "village_a1", PASSWORD, ip="10.0.4.99").status_code == 302
    assert logged_in_as(client) == "village_a1"


def test_failures_older_than_15_minutes_do_not_count(client, users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for i in range(4):
        attempt(client, "village_a1", WRONG, ip=f"10.0.5.{i}")
    time_machine.shift(timedelta(minutes=16))
    assert attempt(client, "village_a1", WRONG, ip="10.0.5.50").status_code == 200  # a fresh count of 1
    assert attempt(client, "village_a1", PASSWORD, ip="10.0.5.51").status_code == 302


def test_administrator_unlocks_a_user(client, users):
    # The usual case: five mistakes at one desk lock both the user name and that address.
    for _ in range(5):
        attempt(client, "village_a1", WRONG, ip="10.0.6.1")
    assert is_locked_page(attempt(client, "village_a1", PASSWORD, ip="10.0.6.1"))

    # The user list and page show the lock; the administrator unlocks.
    login(client, users["admin"])
    assert "village_a1" in client.get(reverse("core:user_list")).context["locked"]
    detail = client.get(reverse("core:user_detail", args=[users["village_a1"].pk]))
    assert detail.context["is_locked"] is True
    response = client.post(reverse("core:user_action", args=[users["village_a1"].pk, "unlock"]))
    assert response.status_code == 302 and response["Location"] == users["village_a1"].get_absolute_url()
    assert not AccessAttempt.objects.filter(username="village_a1").exists()
    client.logout()

    assert attempt(client, "village_a1", PASSWORD, ip="10.0.6.1").status_code == 302
    assert logged_in_as(client) == "village_a1"


def test_user_page_shows_a_lock_built_from_several_addresses(client, users):
    for i in range(5):
        attempt(client, "village_a1", WRONG, ip=f"10.0.6.{10 + i}")
    assert is_locked_page(attempt(client, "village_a1", PASSWORD, ip="10.0.6.99"))
    login(client, users["admin"])
    assert "village_a1" in client.get(reverse("core:user_list")).context["locked"]
    assert client.get(reverse("core:user_detail", args=[users["village_a1"].pk])).context["is_locked"] is True


def test_user_page_stops_showing_an_expired_lock(client, users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    login(client, users["admin"])  # an administrator at work (logging in makes axes clean its table)
    for _ in range(5):
        attempt(Client(), "village_a1", WRONG, ip="10.0.6.30")
    url = reverse("core:user_detail", args=[users["village_a1"].pk])
    assert client.get(url).context["is_locked"] is True
    time_machine.shift(timedelta(minutes=16))
    assert client.get(url).context["is_locked"] is False


def test_station_user_cannot_unlock(client, users):
    for i in range(5):
        attempt(client, "village_a1", WRONG, ip=f"10.0.7.{i}")
    login(client, users["street_a"])
    response = client.post(reverse("core:user_action", args=[users["village_a1"].pk, "unlock"]))
    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username="village_a1").exists()


def test_successful_login_resets_the_failure_count(client, users):
    for _ in range(4):
        attempt(client, "village_a1", WRONG, ip="10.0.8.1")
    assert attempt(client, "village_a1", PASSWORD, ip="10.0.8.1").status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "village_a1", WRONG, ip="10.0.8.1").status_code == 200
    assert attempt(client, "village_a1", PASSWORD, ip="10.0.8.1").status_code == 302


def test_lockout_is_proxy_aware(client, users, settings):
    """Behind one trusted proxy (nginx appends the client address) the client is the last
    X-Forwarded-For entry; anything the client wrote further left is ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.9.1"
    for i in range(5):
        attempt(client, f"nosuchuser{i}", WRONG, ip=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 61.147.1.10")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"61.147.1.10"}
    # The attacker's address is locked, whatever it forges to the left ...
    response = attempt(client, "village_a1", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 61.147.1.10")
    assert is_locked_page(response)
    # ... another client behind the same proxy is not.
    response = attempt(client, "village_a1", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="61.147.1.20")
    assert response.status_code == 302


def test_without_trusted_proxy_forwarded_header_is_ignored(client, users):
    """With no trusted proxy configured a client cannot dodge the IP lockout by forging X-Forwarded-For."""
    for i in range(5):
        attempt(client, f"nosuchuser{i}", WRONG, ip="10.0.10.1", HTTP_X_FORWARDED_FOR=f"61.147.2.{i}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.10.1"}
    response = attempt(client, "village_a1", PASSWORD, ip="10.0.10.1", HTTP_X_FORWARDED_FOR="61.147.2.200")
    assert is_locked_page(response)


# --- password rules -------------------------------------------------------------------------


def _validator_message(validator, password: str) -> str:
    with pytest.raises(ValidationError) as exc:
        validator.validate(password)
    return exc.value.messages[0]


def _create(tree, password: str):
    return user_create(actor=None, username="newuser", password=password, real_name="新用户",
                       org_unit=tree["village_a1"], roles=[Role.VILLAGE_STATION])


@pytest.mark.parametrize(
    ("password", "validator"),
    [
        ("Ab1!xyz", password_validation.MinimumLengthValidator(min_length=10)),  # 7 characters
        ("Password123", password_validation.CommonPasswordValidator()),  # "password123" is on Django's list
        ("qmzvtrplkdw8", CharacterClassValidator()),  # lower case and digits only
        ("Zq7#mPv2Lr9", None),  # accepted
    ],
    ids=["too-short", "common", "too-simple", "good"],
)
def test_password_validators(tree, password, validator):
    if validator is None:
        assert _create(tree, password).check_password(password)
        return
    with pytest.raises(ValidationError) as exc:
        _create(tree, password)
    assert set(exc.value.message_dict) == {"password"}
    assert _validator_message(validator, password) in exc.value.message_dict["password"]
    from apps.core.models import User

    assert not User.objects.filter(username="newuser").exists()


def test_password_similar_to_user_name_is_rejected(tree):
    with pytest.raises(ValidationError) as exc:
        user_create(actor=None, username="zhangwei2024", password="Zhangwei2024!", real_name="张伟",
                    org_unit=tree["village_a1"], roles=[Role.VILLAGE_STATION])
    assert "password" in exc.value.message_dict


def test_password_messages_are_chinese(tree):
    with pytest.raises(ValidationError) as exc:
        _create(tree, "qmzvtrplkdw8")
    message = " ".join(exc.value.message_dict["password"])
    assert "密码" in message, message


# --- idle session timeout -------------------------------------------------------------------


def test_idle_session_expires_after_30_minutes(client, users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert attempt(client, "village_a1", PASSWORD).status_code == 302
    assert client.get(reverse("core:home")).status_code == 200
    time_machine.shift(timedelta(minutes=31))
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


def test_activity_renews_the_session(client, users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert attempt(client, "village_a1", PASSWORD).status_code == 302
    time_machine.shift(timedelta(minutes=29))
    assert client.get(reverse("core:home")).status_code == 200
    time_machine.shift(timedelta(minutes=29))  # 58 minutes after log-in, 29 after the last request
    assert client.get(reverse("core:home")).status_code == 200
    assert logged_in_as(client) == "village_a1"


# --- administrators' second factor ----------------------------------------------------------


def current_token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def test_admin_without_device_must_enrol(client, users):
    assert attempt(client, "admin", PASSWORD).status_code == 302
    response = client.get(reverse("core:user_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:otp_setup") + "?next=")
    # The API is guarded too.
    assert client.get(reverse("orgunit-list")).status_code == 302


def test_admin_enrols_with_a_correct_code(client, users):
    assert attempt(client, "admin", PASSWORD).status_code == 302
    page = client.get(reverse("core:otp_setup"), {"next": reverse("core:user_list")})
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=users["admin"], confirmed=False)
    response = client.post(reverse("core:otp_setup"), {"token": current_token(device), "next": reverse("core:user_list")})
    assert response.status_code == 302 and response["Location"] == reverse("core:user_list")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("core:user_list")).status_code == 200


def test_admin_with_device_must_verify(client, users):
    device = TOTPDevice.objects.create(user=users["admin"], name="phone", confirmed=True)
    assert attempt(client, "admin", PASSWORD).status_code == 302
    response = client.get(reverse("core:user_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:otp_verify") + "?next=")

    # A wrong code: the page stays, with a Chinese error, and the admin is still held back.
    good = current_token(device)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(reverse("core:otp_verify"), {"token": wrong, "next": reverse("core:user_list")})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["token"])
    assert "验证码" in errors, errors
    assert client.get(reverse("core:user_list")).status_code == 302

    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above started django-otp's back-off
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("core:otp_verify"), {"token": current_token(device), "next": reverse("core:user_list")})
    assert response.status_code == 302 and response["Location"] == reverse("core:user_list")
    assert client.get(reverse("core:user_list")).status_code == 200


def test_otp_verify_ignores_foreign_next(client, users):
    device = TOTPDevice.objects.create(user=users["admin"], name="phone", confirmed=True)
    attempt(client, "admin", PASSWORD)
    response = client.post(reverse("core:otp_verify"), {"token": current_token(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("core:home")


def test_non_admin_is_not_forced(client, users):
    for name in ["village_a1", "leader", "bureau"]:
        client.logout()
        assert attempt(client, name, PASSWORD).status_code == 302
        response = client.get(reverse("core:home"), follow=True)  # district-wide roles land on the dashboard
        assert response.status_code == 200 and not response.redirect_chain[1:], name
        assert all(reverse("core:otp_verify") not in url for url, _status in response.redirect_chain), name


def test_non_admin_with_device_must_verify(client, users):
    """A user who chose to enrol is asked for the code too (the device is theirs to use)."""
    TOTPDevice.objects.create(user=users["leader"], name="phone", confirmed=True)
    attempt(client, "leader", PASSWORD)
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:otp_verify"))


def test_admin_cannot_turn_the_second_factor_off(client, users):
    login(client, users["admin"])
    response = client.post(reverse("core:otp_disable"))
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=users["admin"], confirmed=True).exists()
