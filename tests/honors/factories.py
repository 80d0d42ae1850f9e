"""Honours test helpers: real PNG/JPEG uploads and records made through the services."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.honors import services


def image(name: str = "signature.png", fmt: str = "PNG", size: tuple[int, int] = (60, 30)) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", size, (250, 250, 245)).save(buffer, fmt)
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type)


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def make_plaque(veteran, *, actor=None, **fields):
    fields.setdefault("action", "hang")
    fields.setdefault("date", days_ago(3))
    fields.setdefault("people", "街道 王某, 村 李某, 户主")
    fields.setdefault("signature", image())
    return services.plaque_record(actor=actor, veteran=veteran, **fields)


def make_notice(veteran, *, actor=None, **fields):
    fields.setdefault("member_name", "张小军")
    fields.setdefault("award", "third_class")
    fields.setdefault("notice_date", days_ago(2))
    return services.merit_notice_register(actor=actor, veteran=veteran, **fields)


def deliver(notice, *, actor=None, **fields):
    fields.setdefault("delivered_on", timezone.localdate())
    fields.setdefault("deliverers", "街道 王某, 人武部 李某")
    fields.setdefault("signature", image("receipt.jpg", "JPEG"))
    return services.merit_notice_deliver(actor=actor, notice=notice, **fields)
