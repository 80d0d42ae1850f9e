"""Background jobs: each app registers its job kinds; one Celery task (``core.run_job``) runs any of them.

An app's ``jobs.py`` has ``register_jobs()``, which calls :func:`register` with a kind name, the function that does
the work (``run(job, progress)``), the Celery queue and a label. A service creates a ``Job`` row with that kind
and calls :func:`start`; once the transaction commits, ``core.run_job(job_id)`` is queued on the kind's queue. The
worker claims the job with one conditional UPDATE (so two deliveries of the same message never both run it), runs
the kind's function, and marks the job done, or failed with the reason in Chinese: the message of a
:class:`JobError`, or a general one for anything unexpected (logged). A job's owner may run a failed job, or one
stuck without a sign of life for ``JOB_STUCK_AFTER_MINUTES`` (a killed worker), again: :func:`job_retry`.

Nothing here imports an app or a task module: the task is sent by its name, so services, tasks and apps import
this module one way only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import broker
from .choices import JobStatus
from .models import Job, User

logger = logging.getLogger(__name__)

TASK_NAME = "core.run_job"
UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)


class JobError(Exception):
    """A clean failure: the job is marked failed with this message (in Chinese) as the reason its owner reads."""


@dataclass(frozen=True)
class JobKind:
    kind: str
    run: Callable[[Job, Progress], None]
    queue: str | None
    label: object


_KINDS: dict[str, JobKind] = {}


def register(*, kind: str, run: Callable[[Job, Progress], None], queue: str | None = None,
             label: object = "") -> JobKind:
    """Register (or, called again, replace) a job kind. ``kind`` is stored on each ``Job`` (at most 32 characters)."""
    if len(kind) > Job._meta.get_field("kind").max_length:
        raise ValueError(f"job kind {kind!r} is too long")
    _KINDS[kind] = JobKind(kind, run, queue, label)
    return _KINDS[kind]


def kind_of(job: Job) -> JobKind | None:
    return _KINDS.get(job.kind)


def registered() -> dict[str, JobKind]:
    return dict(_KINDS)


# --- progress ---------------------------------------------------------------------------------------


class Progress:
    """Writes a running job's progress and its sign of life (``heartbeat_at``), at most every ``every`` seconds.

    Inside a transaction the job opened (an import writes everything in one) the UPDATE goes through a connection
    of its own, so the download centre sees it while the job's transaction is still open."""

    def __init__(self, job: Job, *, every: float = 0.5):
        self.job_pk = job.pk
        self.total = job.total
        self.every = every
        self.last = 0.0
        self.conn = None
        self.pending: int | None = None
        self.depth = len(connection.atomic_blocks)  # transactions open before the job ran (a test's own)

    def update(self, done: int, total: int | None = None) -> None:
        """Record ``done`` (of ``total``, when it is known or changes); written at most every ``every`` seconds,
        a new total at once, the last value when the job ends (``close``)."""
        if total is not None:
            self.total = total
        self.pending = min(done, self.total) if self.total else done
        now = time.monotonic()
        if total is None and now - self.last < self.every:
            return
        self.last = now
        self._write(total)

    def _write(self, total: int | None = None) -> None:
        fields = {"progress": self.pending, "heartbeat_at": timezone.now()}
        self.pending = None
        if total is not None:
            fields["total"] = total
        if len(connection.atomic_blocks) <= self.depth:
            Job.objects.filter(pk=self.job_pk).update(**fields)
            return
        try:
            if self.conn is None:
                self.conn = connections.create_connection(connection.alias)
            columns = ", ".join(f'"{Job._meta.get_field(name).column}" = %s' for name in fields)
            with self.conn.cursor() as cursor:
                cursor.execute(f'UPDATE "{Job._meta.db_table}" SET {columns} WHERE id = %s',  # noqa: S608
                               [*fields.values(), self.job_pk])
        except Exception:  # progress is a courtesy: never fail a job over it
            logger.warning("job %s: progress not written", self.job_pk, exc_info=True)

    def close(self) -> None:
        """Write the last progress held back by the throttle; close the side connection."""
        if self.pending is not None:
            self._write()
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a side connection must not fail the job
                logger.warning("job %s: progress connection did not close", self.job_pk, exc_info=True)


# --- queueing ---------------------------------------------------------------------------------------


def unavailable_message() -> str:
    return _("The background service is unavailable at the moment; try again later.")


def start(job: Job) -> None:
    """Queue ``job`` once the current transaction commits; queuing counts as a sign of life.

    When the broker cannot take it the job is failed at once with a reason its owner reads (后台服务暂不可用) and
    can retry, never left waiting for a message that was never sent. With tasks in-process (no Redis) it runs
    here, after the commit."""
    spec = kind_of(job)
    if spec is None:
        raise LookupError(f"unknown job kind {job.kind!r}")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    pk, queue = job.pk, spec.queue

    def send() -> None:
        if broker.in_process():
            job_run(pk)
            return
        try:
            broker.send(TASK_NAME, [pk], queue=queue)
        except broker.BrokerUnavailable:
            Job.objects.filter(pk=pk, status=JobStatus.PENDING).update(
                status=JobStatus.FAILED, error=unavailable_message(), finished_at=timezone.now())

    transaction.on_commit(send)


# --- running ----------------------------------------------------------------------------------------


def stuck_before(now: datetime | None = None) -> datetime:
    """Jobs whose last sign of life is older than this are stuck (their worker died, their message was lost)."""
    return (now or timezone.now()) - timedelta(minutes=settings.JOB_STUCK_AFTER_MINUTES)


def _stuck(now: datetime | None = None) -> Q:
    return Q(status__in=UNFINISHED, alive__lt=stuck_before(now))


def job_claim(job_id: int, *, redelivered: bool = False) -> bool:
    """Take the job for this worker in one conditional UPDATE; only one of two concurrent claimers wins.

    A waiting job is claimed, and a failed one (a late message for a job given up as stuck). A running one is
    claimed only from a worker that died: its message redelivered by the broker, or no sign of life for
    ``JOB_STUCK_AFTER_MINUTES``. A finished or expired job is never run again."""
    claimable = Q(status__in=(JobStatus.PENDING, JobStatus.FAILED)) | Q(status=JobStatus.RUNNING, alive__lt=stuck_before())
    if redelivered:
        claimable |= Q(status=JobStatus.RUNNING)
    return bool(Job.objects.filter(pk=job_id).alias(alive=Coalesce("heartbeat_at", "created_at")).filter(claimable)
                .update(status=JobStatus.RUNNING, progress=0, error="", finished_at=None, heartbeat_at=timezone.now()))


def job_run(job_id: int, *, redelivered: bool = False) -> Job | None:
    """Claim and run a job by its kind; safe to run twice. Returns the job as it ended, or None when not claimed."""
    if not job_claim(job_id, redelivered=redelivered):
        return None
    job = Job.objects.select_related("user").get(pk=job_id)
    spec = kind_of(job)
    progress = Progress(job)
    error = ""
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        try:
            if spec is None:
                raise JobError(_("This kind of job can no longer be run."))
            spec.run(job, progress)
        except JobError as exc:
            error = str(exc) or _("The job failed.")
        except Exception:  # noqa: BLE001 - any failure is the job's, reported to its owner
            logger.exception("job %s (%s) failed", job_id, job.kind)
            error = _("The job stopped because of an internal error. Try again or ask the administrator.")
        finally:
            progress.close()
    # A kind that ends the job itself (marks it done or failed) is left as it marked it.
    finished = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING)
    if error:
        finished.update(status=JobStatus.FAILED, error=error[:2000], finished_at=timezone.now())
    else:
        finished.update(status=JobStatus.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


# --- the owner's actions ----------------------------------------------------------------------------


def job_is_retryable(job: Job, *, now: datetime | None = None) -> bool:
    """Failed, or waiting/running without a sign of life for ``JOB_STUCK_AFTER_MINUTES``, of a known kind."""
    if job.kind not in _KINDS:
        return False
    if job.status == JobStatus.FAILED:
        return True
    alive = job.heartbeat_at or job.created_at
    return job.status in UNFINISHED and alive is not None and alive < stuck_before(now)


def job_retry(*, actor: User, job: Job) -> Job:
    """Put the owner's failed or stuck job back in the queue (after the transaction commits); its old result
    file is dropped. With the broker down the job stays as it was (``BrokerUnavailable``), to be retried later."""
    if job.user_id != actor.pk or not job_is_retryable(job):
        raise ValueError("only the owner's failed or stuck job of a known kind can be retried")
    if not broker.broker_available():
        raise broker.BrokerUnavailable
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if not job_is_retryable(locked):
            raise ValueError("the job is no longer failed or stuck")
        old = locked.output_file.name
        locked.status, locked.progress, locked.error, locked.finished_at = JobStatus.PENDING, 0, "", None
        locked.output_file = ""
        locked.save(update_fields=["status", "progress", "error", "finished_at", "output_file"])
        if old:
            storage = locked.output_file.storage
            transaction.on_commit(lambda: storage.delete(old))
        start(locked)
    return locked


def jobs_fail_stuck(*, user: User | None = None, now: datetime | None = None) -> int:
    """Fail the waiting or running jobs (of ``user``, or everyone's) that gave no sign of life for
    ``JOB_STUCK_AFTER_MINUTES``: a killed worker, a lost message, a database outage mid-job. Their owner
    can run them again from the download centre."""
    now = now or timezone.now()
    jobs = Job.objects.alias(alive=Coalesce("heartbeat_at", "created_at")).filter(_stuck(now))
    if user is not None:
        jobs = jobs.filter(user=user)
    minutes = settings.JOB_STUCK_AFTER_MINUTES
    reason = _("The job gave no sign of life for %(minutes)d minutes (the worker or the database may have "
               "stopped); it was marked failed. Run it again.") % {"minutes": minutes}
    return jobs.update(status=JobStatus.FAILED, error=reason, finished_at=now)
