"""The 机关驻街 figure (``register_figures``, found by core discovery): task-list items done on time.

Items belong to a pairing of a bureau department with a street, so the figure is kept per street (and the
district); a village has none.
"""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core import figures
from apps.core.choices import OrgLevel
from apps.core.figures import RATIO, Figure, Period

from .choices import LiaisonStatus
from .models import LiaisonTask


def items_on_time(period: Period):
    """驻街事项按时完成率: items whose due date falls within the period, counting those done or whose due date has
    passed (one still before its date counts in neither); on time: marked done on or before the due date. At the
    pairing's street; items of ended pairings count too (they were due)."""
    today = timezone.localdate()
    items = LiaisonTask.objects.filter(due_date__gte=period.start, due_date__lte=period.end).filter(
        Q(status=LiaisonStatus.DONE) | Q(due_date__lt=today))
    on_time = Q(status=LiaisonStatus.DONE, completed_on__lte=F("due_date"))
    grouped = (items.order_by().values("pairing__street_id")
               .annotate(v=Count("pk", filter=on_time), b=Count("pk")))
    return [(row["pairing__street_id"], "", row["v"], row["b"]) for row in grouped]


def items_link(unit, period, bucket):
    """The monthly summary of the period's last month (every street the user may see; closest)."""
    month = min(period.end, timezone.localdate())
    return f"{reverse('liaison:summary')}?month={month:%Y-%m}"


def register_figures() -> None:
    figures.register(Figure(
        key="liaison.items_on_time", label=_("Liaison items done on time"),
        description=_("Share of the bureau-to-street liaison items due within the period that were done by their "
                      "due date."),
        compute=items_on_time, app="liaison", group=_("Bureau-to-street liaison"), kind=RATIO,
        levels=(OrgLevel.DISTRICT.value, OrgLevel.STREET.value), unit=pgettext_lazy("figure unit", "%"),
        link=items_link, order=600))
