"""The transactional outbox: follow-up work recorded with the change that needs it, done at least once.

An app registers a kind with its handler (``register``) and calls ``outbox_add`` inside the transaction
that changes data. Once that transaction commits, the rows are handed to a worker (``core.outbox_run``); with
the broker down, kinds registered ``inline`` are done here and now (the README's "Redis down" fallback),
the others wait. A row is deleted in the transaction that does its work, so the work is never lost:
a process killed after the commit, a message lost with Redis, or a worker killed mid-way leave the row,
and ``core.outbox_drain`` (every minute from beat, and when a worker starts) does it. Handlers take the
JSON payload, must be safe to run twice, and run inside the transaction that deletes the row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import broker
from .models import OutboxMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Callable[[dict], object]
    queue: str | None = None  # the Celery queue of core.outbox_run for this kind
    inline: bool = False  # with the broker down, do it in the committing process


_KINDS: dict[str, Kind] = {}


def register(name: str, handler: Callable[[dict], object], *, queue: str | None = None, inline: bool = False) -> None:
    _KINDS[name] = Kind(name, handler, queue, inline)


def outbox_add(*, kind: str, payloads: Iterable[dict]) -> list[int]:
    """Record follow-up work in the current transaction; it is handed out once the transaction commits."""
    if kind not in _KINDS:
        raise LookupError(f"unknown outbox kind {kind!r}")
    rows = OutboxMessage.objects.bulk_create([OutboxMessage(kind=kind, payload=p) for p in payloads])
    pks = [row.pk for row in rows]
    if pks:
        transaction.on_commit(lambda: outbox_dispatch(pks))
    return pks


def outbox_dispatch(pks: list[int]) -> None:
    """After the commit: queue each row's work, or do it now when the broker is down and the kind allows."""
    from .tasks import outbox_run

    for row in OutboxMessage.objects.filter(pk__in=pks, claimed_at__isnull=True).only("pk", "kind"):
        kind = _KINDS.get(row.kind)
        if kind is None:
            continue
        try:
            OutboxMessage.objects.filter(pk=row.pk).update(claimed_at=timezone.now())
            broker.send(outbox_run, [row.pk], queue=kind.queue)
        except broker.BrokerUnavailable:
            if kind.inline:
                logger.warning("outbox: broker unreachable, doing %s #%s in this process", row.kind, row.pk)
                outbox_run_one(row.pk, reraise=False)  # a failure stays on the row for the next drain
            else:
                logger.warning("outbox: broker unreachable, %s #%s waits for the next drain", row.kind, row.pk)


def outbox_run_one(pk: int, *, reraise: bool = True) -> bool:
    """Do one row's work and delete it, in one transaction. False when it is gone or another process holds it.
    A failing handler leaves the row (with the error) for the next drain."""
    try:
        with transaction.atomic():
            row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                return False
            kind = _KINDS.get(row.kind)
            if kind is None:
                raise LookupError(f"unknown outbox kind {row.kind!r}")
            kind.handler(row.payload)
            row.delete()
    except Exception as exc:
        logger.exception("outbox: %s failed", pk)
        OutboxMessage.objects.filter(pk=pk).update(attempts=F("attempts") + 1, error=str(exc)[:2000],
                                                   claimed_at=timezone.now())
        if reraise:
            raise
        return False
    return True


def outbox_drain(*, limit: int = 500, older_than: timedelta | None = None) -> int:
    """Do the work of rows nobody did: left by a killed process, a lost message or a broker outage.

    Rows younger than ``older_than`` (default ``OUTBOX_DRAIN_AFTER_SECONDS``) are left to their queued
    message; rows that failed ``OUTBOX_MAX_ATTEMPTS`` times are left for an administrator (logged)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.OUTBOX_DRAIN_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    pks = list(OutboxMessage.objects.filter(created_at__lte=cutoff, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS)
               .order_by("pk").values_list("pk", flat=True)[:limit])
    done = 0
    for pk in pks:
        done += outbox_run_one(pk, reraise=False)
    return done
