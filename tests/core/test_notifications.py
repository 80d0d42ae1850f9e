"""Notifications: the notify service and its channels, the unread badge, marking read."""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail
from django.urls import reverse

from apps.core import services
from apps.core.choices import Role
from apps.core.models import Notification
from tests.conftest import login


@pytest.fixture
def people(tree, make_user):
    return {
        "with_email": make_user(Role.VILLAGE_STATION, tree["village_a1"], "wang", email="wang@example.com",
                                phone="13800000001"),
        "no_email": make_user(Role.VILLAGE_STATION, tree["village_a2"], "li"),
        "inactive": make_user(Role.VILLAGE_STATION, tree["village_b1"], "zhao", email="zhao@example.com"),
    }


def badge(response) -> str | None:
    """The text of the unread badge in the page shell; None when hidden."""
    match = re.search(r'<span id="unread-badge" class="([^"]*)"[^>]*>(\d+)', response.content.decode())
    assert match, "no #unread-badge in the page"
    return None if "d-none" in match.group(1).split() else match.group(2)


def test_notify_delivers_in_app_and_by_email(people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp", "email"]
    settings.PORTAL_BASE_URL = "https://portal.example.gov.cn"
    people["inactive"].is_active = False
    people["inactive"].save(update_fields=["is_active"])
    delivered = services.notify(recipients=list(people.values()), title="走访提醒", body="请于本周走访", link="/care/1/",
                                level="warning")
    assert delivered == 2  # the inactive user gets nothing
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"wang", "li"}
    note = Notification.objects.get(recipient=people["with_email"])
    assert (note.title, note.body, note.link, note.level, note.read_at) == ("走访提醒", "请于本周走访", "/care/1/", "warning", None)
    # E-mail only to the user with an address.
    assert [m.to for m in mail.outbox] == [["wang@example.com"]]
    assert mail.outbox[0].subject == "走访提醒"
    assert "https://portal.example.gov.cn/care/1/" in mail.outbox[0].body


def test_same_event_is_delivered_once(people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp", "email"]
    for _ in range(2):
        services.notify(recipients=[people["with_email"]], title="提醒", dedupe_key="visit:42:2026-05")
    assert Notification.objects.filter(recipient=people["with_email"]).count() == 1
    assert len(mail.outbox) == 1
    # A second send returns 0 new deliveries; another key is a new event.
    assert services.notify(recipients=[people["with_email"]], title="提醒", dedupe_key="visit:42:2026-05") == 0
    assert services.notify(recipients=[people["with_email"]], title="提醒", dedupe_key="visit:42:2026-06") == 1
    assert len(mail.outbox) == 2


def test_without_dedupe_key_each_send_is_new(people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp"]
    services.notify(recipients=[people["no_email"]], title="公告")
    services.notify(recipients=[people["no_email"]], title="公告")
    assert Notification.objects.filter(recipient=people["no_email"]).count() == 2


def test_dedupe_key_is_per_recipient(people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp"]
    services.notify(recipients=[people["with_email"]], title="提醒", dedupe_key="k")
    assert services.notify(recipients=[people["with_email"], people["no_email"]], title="提醒", dedupe_key="k") == 1
    assert Notification.objects.filter(dedupe_key="k").count() == 2


def test_sms_channel_logs_the_text(people, settings, caplog):
    settings.NOTIFICATION_CHANNELS = ["inapp", "sms"]
    with caplog.at_level(logging.INFO, logger="veterans_portal.sms"):
        services.notify(recipients=[people["with_email"], people["no_email"]], title="慰问通知", body="春节慰问")
    sms = [r for r in caplog.records if r.name == "veterans_portal.sms"]
    assert len(sms) == 1  # only the user with a phone number
    assert "13800000001" in sms[0].getMessage() and "慰问通知" in sms[0].getMessage()
    assert not mail.outbox  # e-mail is not an active channel here


def test_default_channels(people):
    """Configured channels by default: in-app, e-mail and the SMS log."""
    services.notify(recipients=[people["with_email"]], title="默认渠道")
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_unread_badge_in_page_shell(client, people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp"]
    user = people["no_email"]
    login(client, user)
    assert badge(client.get(reverse("core:home"))) is None
    services.notify(recipients=[user], title="一")
    services.notify(recipients=[user], title="二")
    services.notify(recipients=[people["with_email"]], title="别人的")
    assert badge(client.get(reverse("core:home"))) == "2"
    assert badge(client.get(reverse("core:profile"))) == "2"


def test_mark_read(client, people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp"]
    user = people["no_email"]
    services.notify(recipients=[user], title="一", link="/orgunits/")
    services.notify(recipients=[user], title="二")
    first = Notification.objects.get(title="一")
    second = Notification.objects.get(title="二")
    login(client, user)
    response = client.post(reverse("core:notification_read", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/orgunits/"  # follows the link
    first.refresh_from_db()
    assert first.read_at is not None
    assert badge(client.get(reverse("core:home"))) == "1"
    response = client.post(reverse("core:notification_read", args=[second.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("core:notification_list")
    assert badge(client.get(reverse("core:home"))) is None


def test_mark_read_ignores_foreign_links(client, people):
    user = people["no_email"]
    note = Notification.objects.create(recipient=user, title="钓鱼", link="https://evil.example/")
    login(client, user)
    response = client.post(reverse("core:notification_read", args=[note.pk]))
    assert response["Location"] == reverse("core:notification_list")


def test_mark_read_with_htmx_returns_the_item_and_an_oob_badge(client, people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp"]
    user = people["no_email"]
    for title in ["一", "二", "三"]:
        services.notify(recipients=[user], title=title)
    note = Notification.objects.get(title="二")
    login(client, user)
    response = client.post(reverse("core:notification_read", args=[note.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="notification-{note.pk}"' in html and "notification-unread" not in html
    oob = re.search(r'<span id="unread-badge"[^>]*hx-swap-oob="true"[^>]*>(\d+)', html)
    assert oob and oob.group(1) == "2"


def test_mark_read_requires_post(client, people):
    note = Notification.objects.create(recipient=people["no_email"], title="x")
    login(client, people["no_email"])
    assert client.get(reverse("core:notification_read", args=[note.pk])).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_another_users_notification_is_404(client, people):
    theirs = Notification.objects.create(recipient=people["with_email"], title="别人的")
    login(client, people["no_email"])
    assert client.post(reverse("core:notification_read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("core:notification_read", args=[theirs.pk]), HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(reverse("notification-detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notification-read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, people, settings):
    settings.NOTIFICATION_CHANNELS = ["inapp"]
    user = people["no_email"]
    for title in ["一", "二", "三"]:
        services.notify(recipients=[user], title=title)
    services.notify(recipients=[people["with_email"]], title="别人的")
    login(client, user)
    response = client.post(reverse("core:notification_read_all"))
    assert response.status_code == 302 and response["Location"] == reverse("core:notification_list")
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    # Someone else's stay unread.
    assert Notification.objects.get(title="别人的").read_at is None
    page = client.get(reverse("core:notification_list"))
    assert badge(page) is None
    assert "3" in " ".join(str(m) for m in page.context["messages"])


def test_notification_list_unread_filter(client, people):
    user = people["no_email"]
    read = Notification.objects.create(recipient=user, title="已读的")
    services.notification_mark_read(user=user, notification_ids=[read.pk])
    Notification.objects.create(recipient=user, title="未读的")
    Notification.objects.create(recipient=people["with_email"], title="别人的")
    login(client, user)
    assert {n.title for n in client.get(reverse("core:notification_list")).context["object_list"]} == {"已读的", "未读的"}
    assert {n.title for n in client.get(reverse("core:notification_list"), {"unread": "1"}).context["object_list"]} == {"未读的"}


def test_api_lists_own_notifications_and_marks_read(client, people):
    user = people["no_email"]
    mine = Notification.objects.create(recipient=user, title="我的")
    Notification.objects.create(recipient=people["with_email"], title="别人的")
    login(client, user)
    listed = client.get(reverse("notification-list")).json()
    assert [row["title"] for row in listed["results"]] == ["我的"]
    response = client.post(reverse("notification-read", args=[mine.pk]))
    assert response.status_code == 200 and response.json()["read_at"] is not None


def test_mark_read_service_touches_only_own_rows(people):
    mine = Notification.objects.create(recipient=people["no_email"], title="我的")
    theirs = Notification.objects.create(recipient=people["with_email"], title="别人的")
    assert services.notification_mark_read(user=people["no_email"], notification_ids=[mine.pk, theirs.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
