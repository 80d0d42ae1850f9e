"""Error pages that must work when nothing else does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]

# A signed-in browser (a session cookie) asks for a page while PostgreSQL cannot be reached.
_PROBE = """
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "abcdefghijklmnopqrstuvwxyz123456"
response = client.get("/veterans/")
print(response.status_code)
print(response.content.decode())
"""


def test_database_down_gives_the_static_chinese_error_page():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "veterans_portal.settings.test",
           "DATABASE_URL": "postgres://postgres@127.0.0.1:1/veterans_portal"}  # nothing listens on port 1
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    status, _newline, body = done.stdout.partition("\n")
    assert status == "500"
    assert "系统出现错误" in body
    assert "Internal Server Error" not in body


_SETTINGS = "from django.conf import settings; print(settings.DEBUG)"


def test_local_settings_keep_debug_off_unless_asked():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "veterans_portal.settings.local"
    probe = f"import django; django.setup(); {_SETTINGS}"
    off = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert off.stdout.strip().splitlines()[-1] == "False", off.stderr[-2000:]
    on = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env={**env, "DEBUG": "true"}, capture_output=True,
                        text=True, timeout=120)
    assert on.stdout.strip().splitlines()[-1] == "True", on.stderr[-2000:]


@pytest.mark.django_db
def test_form_without_csrf_token_gets_the_chinese_form_expired_page(users):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "street_a", "password": "x"},
                           HTTP_REFERER="http://testserver/account/login/?next=/veterans/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "表单已过期，请刷新页面后重试" in html
    assert 'href="http://testserver/account/login/?next=/veterans/"' in html  # back to the form's page
    assert "CSRF verification failed" not in html
    assert 'href="#content"' in html

    login(client, users["street_a"])
    response = client.post(reverse("password_change"), {}, HTTP_REFERER="https://elsewhere.example/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "表单已过期，请刷新页面后重试" in html
    assert 'href="/">' in html  # another site's address is never linked
    assert "elsewhere.example" not in html
