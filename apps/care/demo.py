"""Demo care data: visits and life events in the demo villages (高庙社区, 石村社区) so that the person page,
the worklist and the campaign pages have something to show. The due
visits themselves come from the rules: ``make run`` runs the reminder job once after seeding."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from apps.registry.choices import VeteranStatus
from apps.registry.models import Veteran

from . import services
from .choices import VisitMode
from .models import LifeEvent, Occasion, Visit

DEMO_VILLAGES = ["高庙社区", "石村社区"]
VISITORS = ["王红梅、村退役军人服务站专干", "李建国、社区书记", "张敏、街道服务站站长、社区专干"]
CONTENT = ["了解身体和生活情况，宣传优待政策。", "送去节日慰问品，听取意见建议。", "核对信息采集内容，更新联系电话。"]
NEEDS = ["", "希望协调就医绿色通道。", "子女就业需要帮助。", ""]


def seed(*, veterans: int, seed: int = 2026, stdout, **_options) -> int:
    """Visits over the past months for the people of the demo villages, and two fresh life events."""
    people = list(Veteran.objects.filter(org_unit__name__in=DEMO_VILLAGES, status=VeteranStatus.ACTIVE)
                  .order_by("pk")[:60])
    if not people or Visit.objects.filter(veteran__in=people).exists():
        stdout.write("care: demo visits present or no people in the demo villages, none added")
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    occasions = {o.code: o for o in Occasion.objects.all()}
    visits = 0
    # Every other person was visited this year; the rest are on the stations' worklists. A visit answers the
    # rules of its own occasion only, so each visited person's first visit is the regular contact.
    for person in people[::2]:
        for number in range(rng.randint(1, 3)):
            day = today - timedelta(days=rng.randint(5, 450))  # fifteen months: a year earlier too
            if day < person.birth_date:
                continue
            code = rng.choice(["contact", "contact", "spring_festival", "army_day", "other"]) if number else "contact"
            services.visit_log(actor=None, veteran=person, occasion=occasions[code], date=day,
                               visitors=rng.choice(VISITORS), mode=rng.choice([VisitMode.HOME, VisitMode.PHONE]),
                               content=rng.choice(CONTENT), needs=rng.choice(NEEDS),
                               money=rng.choice([None, 200, 500]), goods=rng.choice(["", "米、油", "慰问信"]))
            visits += 1
    events = 0
    # Two fresh must-visit events: one due in two days, one already overdue.
    for person, code, days_ago in zip(people[1::2], ["hospitalised", "hardship"], [1, 5], strict=False):
        if not LifeEvent.objects.filter(veteran=person).exists():
            services.life_event_record(actor=None, veteran=person, occasion=occasions[code],
                                       date=today - timedelta(days=days_ago), description="演示：服务站获悉后登记")
            events += 1
    stdout.write(f"care: {visits} visits and {events} life events in {', '.join(DEMO_VILLAGES)}")
    return visits

