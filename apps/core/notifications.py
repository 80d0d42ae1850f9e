"""Notification channels. A channel delivers one message to one user; ``notify`` fans out.

In-app and e-mail are real channels; the SMS adapter writes what it would send to a log until
a gateway is configured (NOTIFICATION_CHANNELS lists the active ones).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from .models import Notification, User

logger = logging.getLogger("veterans_portal.notifications")
sms_logger = logging.getLogger("veterans_portal.sms")


@dataclass(frozen=True)
class Message:
    title: str
    body: str = ""
    link: str = ""
    level: str = "info"
    dedupe_key: str = ""


class Channel(Protocol):
    name: str

    def deliver(self, user: User, message: Message) -> bool:
        """Deliver the message; return False when it was already delivered or cannot be."""


class InAppChannel:
    name = "inapp"

    def deliver(self, user: User, message: Message) -> bool:
        try:
            with transaction.atomic():
                Notification.objects.create(
                    recipient=user,
                    title=message.title,
                    body=message.body,
                    link=message.link,
                    level=message.level,
                    dedupe_key=message.dedupe_key,
                )
        except IntegrityError:
            return False  # the same event was delivered before
        return True


class EmailChannel:
    name = "email"

    def deliver(self, user: User, message: Message) -> bool:
        if not user.email:
            return False
        body = message.body
        if message.link:
            body = f"{body}\n\n{settings.PORTAL_BASE_URL}{message.link}"
        send_mail(message.title, body, None, [user.email], fail_silently=False)
        return True


class SmsLogChannel:
    """Stand-in for an SMS gateway: records the text that would be sent."""

    name = "sms"

    def deliver(self, user: User, message: Message) -> bool:
        if not user.phone:
            return False
        sms_logger.info("SMS to %s: %s %s", user.phone, message.title, message.body)
        return True


CHANNELS: dict[str, Channel] = {c.name: c for c in (InAppChannel(), EmailChannel(), SmsLogChannel())}
