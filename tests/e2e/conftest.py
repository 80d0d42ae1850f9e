"""Browser tests: Playwright drives Debian's Chromium (package ``chromium``) against a live server.

Outside CI a missing Chromium skips these tests with a printed reason; under CI=true it fails.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the live-server
# fixtures are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        reason = "Chromium not found (apt install chromium, or set CHROMIUM_PATH): browser tests skipped"
        if os.environ.get("CI") == "true":
            pytest.fail(reason.replace("skipped", "required under CI=true"))
        print(f"\nSKIP: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context in Chinese; fails the test if the page asks for anything off the server."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    host = urlparse(live_server.url).netloc
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if urlparse(request.url).netloc not in (host, "") and not request.url.startswith("data:") else None)
    yield page
    context.close()
    assert not outside, f"the page requested assets from outside the portal: {outside}"


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/account/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
