"""The honours figures (``register_figures``, found by core discovery): 光荣牌 hung and their coverage, and
立功喜报 delivered on time.

Who should have a plaque: DOMAIN.md gives 光荣牌 to the families of martyrs and of those who died in service or
of illness (三属), of active-duty members and of veterans, which is every kind of person the register holds; so
every record on the register is a household that should have one (one record, one household: the register
does not group records into households). A household has one when a hanging or a replacement was recorded for
the person on or before the day.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models import DateField as DateFieldType
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.care.choices import RuleKind
from apps.care.models import VisitRule
from apps.core import figures
from apps.core.figures import RATIO, STOCK, Figure, Period
from apps.registry.figures import register_rows
from apps.registry.models import Veteran

from .choices import NoticeStatus
from .models import MeritNotice, PlaqueRecord
from .services import OCCASION_MERIT_DELIVERY

APP = "honors"
GROUP = _("Plaques and merit notices")
HOUSEHOLDS = pgettext_lazy("figure unit", "households")
DEFAULT_NOTICE_DAYS = 7  # the seeded rule 立功喜报7日内送达


def _with_plaque(day):
    return Exists(PlaqueRecord.objects.filter(veteran=OuterRef("pk"), date__lte=day))


def plaques_hung(period: Period):
    """光荣牌已悬挂: households (records) on the register at the end of the period with a plaque hung or replaced
    on or before that day, at the person's unit then."""
    day = period.as_at()
    return register_rows(Veteran.objects.filter(_with_plaque(day)), day)


def plaque_coverage(period: Period):
    """光荣牌悬挂率: of the households that should have a plaque (every record on the register at the end of the
    period; see the module), those that have one (``plaques_hung``)."""
    day = period.as_at()
    people = Veteran.objects.annotate(_hung=_with_plaque(day))
    return register_rows(people, day, value=Count("pk", filter=Q(_hung=True)), base=Count("pk"))


def plaques_link(unit, period, bucket):
    """The plaque register of the unit (records, not households: closest)."""
    return f"{reverse('honors:plaque_list')}?{urlencode({'unit': unit.pk})}"


def notice_days() -> int:
    """Days within which a notice is to be delivered: the active after-event rule of the 送喜报 occasion."""
    days = (VisitRule.objects.filter(kind=RuleKind.AFTER_EVENT, occasion__code=OCCASION_MERIT_DELIVERY, is_active=True)
            .order_by("due_within_days").values_list("due_within_days", flat=True).first())
    return days or DEFAULT_NOTICE_DAYS


def notices_delivered_on_time(period: Period):
    """喜报按时送达率: notices whose deadline (received plus the rule's days, ``notice_days``) falls within the
    period, counting those delivered or whose deadline has passed (one still in its days counts in neither);
    on time: delivered on or before the deadline. At the notice's unit (it follows the family's record)."""
    days = notice_days()
    today = timezone.localdate()
    deadline = ExpressionWrapper(F("notice_date") + timedelta(days=days), output_field=DateFieldType())
    notices = (MeritNotice.objects.filter(notice_date__gte=period.start - timedelta(days=days),
                                          notice_date__lte=period.end - timedelta(days=days))
               .filter(Q(delivered_on__isnull=False) | Q(notice_date__lt=today - timedelta(days=days)))
               .annotate(_deadline=deadline))
    grouped = notices.order_by().values("org_unit_id").annotate(
        v=Count("pk", filter=Q(delivered_on__lte=F("_deadline"))), b=Count("pk"))
    return [(row["org_unit_id"], "", row["v"], row["b"]) for row in grouped]


def notices_link(unit, period, bucket):
    """The unit's notices still to deliver (closest: the register filters by year, not by deadline)."""
    return f"{reverse('honors:notice_list')}?{urlencode({'unit': unit.pk, 'status': NoticeStatus.OPEN})}"


def register_figures() -> None:
    def add(key, label, description, compute, link, order, **kw):
        figures.register(Figure(key=f"honors.{key}", label=label, description=description, compute=compute,
                                app=APP, group=GROUP, link=link, order=order, **kw))

    add("plaques_hung", _("Honour plaques hung"),
        _("Households on the register with an honour plaque hung at the end of the period."), plaques_hung,
        plaques_link, 500, period_kind=STOCK, unit=HOUSEHOLDS)
    add("plaque_coverage", _("Honour plaque coverage"),
        _("Share of the households on the register that have an honour plaque."), plaque_coverage, plaques_link,
        510, kind=RATIO, period_kind=STOCK, unit=pgettext_lazy("figure unit", "%"))
    add("notices_delivered_on_time", _("Merit notices delivered on time"),
        _("Share of the merit notices due within the period that were delivered within the rule's days."),
        notices_delivered_on_time, notices_link, 520, kind=RATIO, unit=pgettext_lazy("figure unit", "%"))
