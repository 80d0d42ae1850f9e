"""Care tasks: the nightly reminder run and recomputation after a change. All take ids and are safe to repeat."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.conf import settings

from . import services
from .models import VisitRule

RUN_TIME_LIMIT = 2 * 60 * 60


@shared_task(name="care.reminders_run", acks_late=True, reject_on_worker_lost=True, time_limit=RUN_TIME_LIMIT,
             soft_time_limit=RUN_TIME_LIMIT - 60)
def reminders_run(on: str | None = None) -> dict:
    """Nightly: rules → due visits, cancel what no longer applies, escalate, remind. Late acknowledgement:
    a worker killed mid-run gets the message redelivered and the run completes the rest."""
    try:
        run = services.reminders_run(on=date.fromisoformat(on) if on else None)
    except services.RunInProgress:
        return {"skipped": "another run holds the lock"}
    return {"run": run.pk, "created": run.created, "cancelled": run.cancelled, "escalated": run.escalated,
            "notified_units": run.notified_units}


@shared_task(name="care.recompute_people", acks_late=True, reject_on_worker_lost=True,
             time_limit=settings.CELERY_TASK_TIME_LIMIT)
def recompute_people(ids: list[int]) -> dict:
    created, cancelled = services.people_recompute(ids=ids)
    return {"people": len(ids), "created": created, "cancelled": cancelled}


@shared_task(name="care.recompute_rule", acks_late=True, reject_on_worker_lost=True, time_limit=RUN_TIME_LIMIT)
def recompute_rule(rule_id: int) -> dict:
    rule = VisitRule.objects.filter(pk=rule_id).select_related("occasion").first()
    if rule is None:
        return {"rule": rule_id, "skipped": "deleted"}
    created, cancelled = services.rule_recompute(rule=rule)
    return {"rule": rule_id, "created": created, "cancelled": cancelled}
