"""Helpers of the care page tests: the seeded occasions and rules (restored after a transactional test's
flush, like the code tables in tests/conftest.py), tasks and photos."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from io import BytesIO

from django.apps import apps
from django.utils import timezone

from apps.care.models import DueVisit, Occasion, VisitRule


def ensure_care_seed() -> None:
    """The occasions and default rules of migration 0002 (idempotent: get_or_create)."""
    if not Occasion.objects.filter(code="contact").exists():
        importlib.import_module("apps.care.migrations.0002_seed_occasions_and_rules").forwards(apps, None)


def png_bytes(color: str = "red") -> bytes:
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def contact_rule() -> VisitRule:
    ensure_care_seed()
    return VisitRule.objects.get(name="全体人员每年至少联系一次")


_periods = iter(range(1, 10**9))


def make_task(veteran, *, due: date | None = None, opens_on: date | None = None, rule: VisitRule | None = None,
              level: int = 0, status: str = "open", **extra) -> DueVisit:
    rule = rule or contact_rule()
    due = due or timezone.localdate()
    return DueVisit.objects.create(rule=rule, veteran=veteran, org_unit_id=veteran.org_unit_id,
                                   occasion=extra.pop("occasion", rule.occasion), period_key=f"t{next(_periods)}",
                                   opens_on=opens_on or min(due, timezone.localdate()) - timedelta(days=1),
                                   due_date=due, level=level, status=status, **extra)
