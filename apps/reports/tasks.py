"""Celery tasks of the reports app: they take plain values and call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.monthly_reports_build", acks_late=True, reject_on_worker_lost=True,
             time_limit=3 * 3600, soft_time_limit=3 * 3600 - 120)
def monthly_reports_build(period: str | None = None) -> dict:
    """The 1st of each month: last month's work report for the district and each street (or ``period``,
    e.g. ``2026-05``). Safe to run twice (see ``apps.reports.monthly.delivery``)."""
    from apps.core.figures import Period

    from .monthly import monthly_reports_build as build

    return build(period=Period.parse(period) if period else None)
