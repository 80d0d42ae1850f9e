"""Valid test people: ID numbers built with the real check digit, records made through the services."""

from __future__ import annotations

from itertools import count

from stdnum.cn import ric

from apps.registry import services
from apps.registry.models import Code

_serial = count(101)


def id_number(birth: str = "19800101", area: str = "320111", sequence: int | None = None) -> str:
    """An 18-digit ID with a correct check digit; odd sequence = male."""
    seq = sequence if sequence is not None else next(_serial) * 2 + 1
    body = f"{area}{birth}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def category(name: str = "退役士兵") -> Code:
    return Code.objects.get(kind="category", name=name)


def make_veteran(unit, *, name: str = "张伟", actor=None, **fields):
    fields.setdefault("primary_category", category())
    return services.veteran_register(actor=actor, id_number=fields.pop("id_number", None) or id_number(),
                                     org_unit=unit, name=name, **fields)


def jpeg_bytes(color: str = "gray") -> bytes:
    """A real (tiny) JPEG: uploads are judged by their content."""
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="JPEG")
    return buffer.getvalue()
