"""Changing one's password (issue 10, finding 14): wrong old passwords lock like failed log-ins."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, login

CHANGE = reverse("password_change")
NEW = "Xq7#mPv2Lr9!"
WRONG = "Wrong#Passw0rd"


def signed_in(username: str, ip: str) -> Client:
    client = Client(REMOTE_ADDR=ip)
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def change(client, old: str):
    return client.post(CHANGE, {"old_password": old, "new_password1": NEW, "new_password2": NEW})


def is_locked_page(response) -> bool:
    return response.status_code == 429 and "锁定" in response.content.decode()


def test_wrong_old_passwords_lock_the_account(users):
    client = signed_in("village_a1", "10.0.20.1")
    for _ in range(4):
        response = change(client, WRONG)
        assert response.status_code == 200 and response.context["form"].errors["old_password"]
    assert is_locked_page(change(client, WRONG))
    # The session ended and the right old password no longer helps ...
    assert client.get(reverse("core:profile")).status_code == 302
    assert AccessAttempt.objects.filter(username="village_a1").exists()
    # ... nor does logging in again, from another address (the user name is locked, as after failed log-ins).
    again = Client(REMOTE_ADDR="10.0.20.2")
    assert is_locked_page(again.post(reverse("login"), {"username": "village_a1", "password": PASSWORD}))
    users["village_a1"].refresh_from_db()
    assert users["village_a1"].check_password(PASSWORD)


def test_a_locked_account_cannot_change_its_password_from_an_open_session(users):
    client = signed_in("village_a1", "10.0.21.1")
    for i in range(5):  # failed log-ins elsewhere lock the user name
        Client(REMOTE_ADDR=f"10.0.21.{10 + i}").post(reverse("login"), {"username": "village_a1", "password": WRONG})
    assert is_locked_page(change(client, PASSWORD))
    users["village_a1"].refresh_from_db()
    assert users["village_a1"].check_password(PASSWORD)


def test_failed_log_ins_and_wrong_old_passwords_count_together(users):
    client = Client(REMOTE_ADDR="10.0.22.2")
    login(client, users["village_a1"])  # a session open while someone tries passwords elsewhere
    for i in range(3):
        Client(REMOTE_ADDR=f"10.0.22.{10 + i}").post(reverse("login"), {"username": "village_a1", "password": WRONG})
    assert change(client, WRONG).status_code == 200
    assert is_locked_page(change(client, WRONG))


def test_a_right_old_password_changes_it_and_resets_the_count(users):
    client = signed_in("village_a1", "10.0.23.1")
    for _ in range(4):
        change(client, WRONG)
    response = change(client, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("core:profile")
    assert not AccessAttempt.objects.filter(username="village_a1").exists()
    assert client.get(reverse("core:profile")).status_code == 200
    users["village_a1"].refresh_from_db()
    assert users["village_a1"].check_password(NEW)
