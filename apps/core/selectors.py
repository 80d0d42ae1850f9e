"""Reads that carry rules: each takes the acting user and goes through ``visible_to``."""

from __future__ import annotations

from datetime import datetime, time

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from pghistory.models import MiddlewareEvents

from .models import AccessLog, Notification, OrgUnit, User


def role_list(*, user: User) -> list[dict]:
    """The roles with their permissions and how many of the visible users hold each."""
    from django.contrib.auth.models import Group

    from .choices import Role

    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values).prefetch_related("permissions__content_type")}
    visible = User.objects.visible_to(user).filter(is_active=True)
    counts = dict(visible.filter(groups__name__in=Role.values).values_list("groups__name").annotate(n=Count("pk")))
    rows = []
    for role in Role:
        group = groups.get(role.value)
        permissions = sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()) if group else []
        rows.append({"role": role, "group": group, "members": counts.get(role.value, 0), "permissions": permissions})
    return rows


def locked_usernames() -> set[str]:
    """User names locked now: failures summed over every address and browser within the lockout window."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .values_list("username", flat=True)
    )


def orgunit_tree(*, user: User) -> QuerySet[OrgUnit]:
    """The units a user may see, in tree order, with their user counts."""
    return OrgUnit.objects.visible_to(user).annotate(user_count=Count("users")).order_by("path")


def home_summary(*, user: User) -> dict:
    units = OrgUnit.objects.visible_to(user)
    summary = {
        "unit_count": units.count(),
        "street_count": units.filter(depth=2).count(),
        "community_count": units.filter(depth=3).count(),
        "unread": Notification.objects.visible_to(user).filter(read_at__isnull=True).count(),
        "recent_notifications": list(Notification.objects.visible_to(user)[:5]),
    }
    if user.has_perm("core.manage_users"):
        summary["user_count"] = User.objects.visible_to(user).filter(is_active=True).count()
        summary["locked_count"] = len(locked_usernames())
    if user.has_perm("core.view_audit"):
        summary["failed_logins_today"] = AccessFailureLog.objects.filter(
            attempt_time__gte=timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        ).count()
    return summary


def _day_bounds(filters: dict) -> tuple[datetime | None, datetime | None]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(filters["date_from"], time.min, tz) if filters.get("date_from") else None
    end = datetime.combine(filters["date_to"], time.max, tz) if filters.get("date_to") else None
    return start, end


def audit_entries(*, user: User, tab: str, filters: dict) -> QuerySet:
    """Rows of one audit tab, filtered. Only users who may review the audit get any rows."""
    if not user.has_perm("core.view_audit"):
        return AccessLog.objects.none()
    start, end = _day_bounds(filters)
    who = filters.get("user") or ""
    if tab == "access":
        qs = AccessLog.objects.visible_to(user).select_related("user", "content_type")
        if who:
            qs = qs.filter(Q(user__username__icontains=who) | Q(user__real_name__icontains=who))
        if filters.get("action"):
            qs = qs.filter(action=filters["action"])
        if filters.get("q"):
            qs = qs.filter(object_repr__icontains=filters["q"])
        if filters.get("model"):
            qs = qs.filter(content_type__model__icontains=filters["model"])
        time_field = "created_at"
    elif tab in ("logins", "failures"):
        qs = (AxesAccessLog if tab == "logins" else AccessFailureLog).objects.all()
        if who:
            qs = qs.filter(username__icontains=who)
        if filters.get("q"):
            qs = qs.filter(ip_address__contains=filters["q"])
        time_field = "attempt_time"
        qs = qs.order_by("-attempt_time")
    else:
        qs = MiddlewareEvents.objects.all().order_by("-pgh_created_at")
        if who:
            ids = list(User.objects.filter(Q(username__icontains=who) | Q(real_name__icontains=who)).values_list("pk", flat=True)[:50])
            qs = qs.filter(user__in=ids)
        if filters.get("model"):
            qs = qs.filter(pgh_obj_model__icontains=filters["model"])
        if filters.get("q"):
            qs = qs.filter(pgh_obj_id=filters["q"])
        time_field = "pgh_created_at"
    if start:
        qs = qs.filter(**{f"{time_field}__gte": start})
    if end:
        qs = qs.filter(**{f"{time_field}__lte": end})
    return qs
