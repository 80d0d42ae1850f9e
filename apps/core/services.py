"""Every write in core goes through these services (views, forms, API and tasks only call them)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pghistory
import pghistory.models
from axes.models import AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from axes.utils import reset as axes_reset
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from . import concurrency
from .choices import AccessAction, OrgLevel, Role
from .models import AccessLog, Notification, OrgUnit, User
from .notifications import CHANNELS, Message


def client_ip(request) -> str | None:
    """The client address as the lockout sees it (proxy-aware when TRUSTED_PROXY_COUNT is set)."""
    from .clientip import client_ip as resolve

    return resolve(request) if request is not None else None


# --- access log -------------------------------------------------------------------------------


def access_log_record(
    *,
    user: User | None,
    action: AccessAction,
    obj: models.Model | None = None,
    request=None,
    detail: dict | None = None,
    object_repr: str = "",
) -> AccessLog:
    """Write one sensitive read/export to the access log (in the caller's transaction)."""
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        detail=detail or {},
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""),
    )


@dataclass
class PurgeResult:
    cutoff: object
    access_log: int
    login_log: int
    login_failures: int
    history_events: int


def audit_purge(*, now=None) -> PurgeResult:
    """Delete audit rows older than AUDIT_RETENTION_DAYS (never fewer than 180 days)."""
    days = max(settings.AUDIT_RETENTION_MIN_DAYS, settings.AUDIT_RETENTION_DAYS)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        access, _unused = AccessLog.objects.filter(created_at__lt=cutoff).delete()
        logins, _unused = AxesAccessLog.objects.filter(attempt_time__lt=cutoff).delete()
        failures, _unused = AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()
        events = 0
        for event_model in django_apps.get_models():
            if issubclass(event_model, pghistory.models.Event) and not event_model._meta.proxy:
                deleted, _unused = event_model.objects.filter(pgh_created_at__lt=cutoff).delete()
                events += deleted
        pghistory.models.Context.objects.filter(updated_at__lt=cutoff).delete()
    return PurgeResult(cutoff, access, logins, failures, events)


# --- notifications ----------------------------------------------------------------------------


def notify(
    *,
    recipients: Iterable[User],
    title: str,
    body: str = "",
    link: str = "",
    level: str = "info",
    dedupe_key: str = "",
    channels: Iterable[str] | None = None,
) -> int:
    """Send a message through the configured channels; returns how many in-app deliveries were new.

    With a ``dedupe_key`` the same event reaches each recipient once, however often it is sent.
    Other channels follow the in-app one: a repeated event is not e-mailed again.
    """
    names = list(channels or settings.NOTIFICATION_CHANNELS)
    message = Message(title=title, body=body, link=link, level=level, dedupe_key=dedupe_key)
    delivered = 0
    for user in recipients:
        if not user.is_active:
            continue
        first_time = CHANNELS["inapp"].deliver(user, message) if "inapp" in names else True
        if not first_time:
            continue
        delivered += 1
        for name in names:
            if name != "inapp":
                CHANNELS[name].deliver(user, message)
    return delivered


def notification_mark_read(*, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.visible_to(user).filter(read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


# --- org units --------------------------------------------------------------------------------

LEVEL_BY_DEPTH = {1: OrgLevel.DISTRICT, 2: OrgLevel.STREET, 3: OrgLevel.COMMUNITY}


def orgunit_create(*, actor: User | None, parent: OrgUnit | None, code: str, name: str, is_station: bool = True) -> OrgUnit:
    """Add a unit under ``parent`` (a district when parent is None). The level follows the depth."""
    depth = 1 if parent is None else parent.depth + 1
    if depth > 3:
        raise ValidationError({"parent": _("A community/village cannot have units below it.")})
    if parent is not None and not code.startswith(parent.code[: 6 if depth == 2 else 9]):
        raise ValidationError({"code": _("The division code must start with the parent unit's code prefix.")})
    if OrgUnit.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A unit with this division code already exists.")})
    fields = {"code": code, "name": name, "level": LEVEL_BY_DEPTH[depth], "is_station": is_station}
    with transaction.atomic():
        if parent is None:
            return OrgUnit.objects.add_root(fields)
        return OrgUnit.objects.add_child(OrgUnit.objects.get(pk=parent.pk), fields)


def orgunit_update(*, actor: User | None, unit: OrgUnit, name: str, is_station: bool, is_active: bool,
                   version: str | None = None) -> OrgUnit:
    """Rename a unit or switch its station on or off; ``version`` refuses a stale edit (concurrency)."""
    with transaction.atomic():
        concurrency.lock_and_check(unit, version)
        unit.name = name
        unit.is_station = is_station
        unit.is_active = is_active
        unit.save(update_fields=["name", "is_station", "is_active"])
    return unit


def orgunit_tree_load(*, rows: Iterable[dict[str, str]]) -> tuple[int, int]:
    """Load or refresh a district tree from rows with ``code`` and ``name``.

    The parent of a unit follows from its 12-digit code (6 county + 3 town + 3 village digits).
    Existing codes are renamed, new ones added; returns (created, updated).
    """
    created = updated = 0
    ordered = sorted(rows, key=lambda r: r["code"])
    with transaction.atomic():
        for row in ordered:
            code, name = row["code"].strip(), row["name"].strip()
            existing = OrgUnit.objects.filter(code=code).first()
            if existing:
                if existing.name != name:
                    existing.name = name
                    existing.save(update_fields=["name"])
                    updated += 1
                continue
            if code[6:] == "000000":
                parent = None
            elif code[9:] == "000":
                parent = OrgUnit.objects.get(code=code[:6] + "000000")
            else:
                parent = OrgUnit.objects.get(code=code[:9] + "000")
            orgunit_create(actor=None, parent=parent, code=code, name=name)
            created += 1
    return created, updated


def orgunit_tree_load_csv(path: Path) -> tuple[int, int]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return orgunit_tree_load(rows=csv.DictReader(handle))


# --- users ------------------------------------------------------------------------------------


def _set_roles(user: User, roles: Iterable[str]) -> None:
    groups = list(Group.objects.filter(name__in=[str(r) for r in roles]))
    user.groups.set(groups)
    user.__dict__.pop("role_names", None)
    user.is_staff = any(g.name == Role.ADMIN for g in groups)
    user.save(update_fields=["is_staff"])


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    real_name: str,
    org_unit: OrgUnit | None,
    roles: Iterable[str],
    phone: str = "",
    email: str = "",
) -> User:
    """Create a user with roles; the password must pass the configured validators."""
    from django.contrib.auth.password_validation import validate_password

    candidate = User(username=username, real_name=real_name, phone=phone, email=email, org_unit=org_unit)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic():
        candidate.set_password(password)
        candidate.full_clean(exclude=["password"])
        candidate.save()
        _set_roles(candidate, roles)
    return candidate


# The fields of the user edit form, as versioned (roles are the user's groups).
USER_VERSION_FIELDS = ("real_name", "phone", "email", "org_unit", "is_active", "groups")
USER_VERSION_LABELS = {"groups": gettext_lazy("Roles")}


def user_update(
    *,
    actor: User | None,
    user: User,
    real_name: str,
    org_unit: OrgUnit | None,
    roles: Iterable[str],
    phone: str = "",
    email: str = "",
    is_active: bool = True,
    version: str | None = None,
) -> User:
    """Change a user's details and roles; ``version`` refuses a stale edit (concurrency)."""
    with transaction.atomic():
        concurrency.lock_and_check(user, version, labels=USER_VERSION_LABELS)
        user.real_name, user.org_unit, user.phone, user.email, user.is_active = real_name, org_unit, phone, email, is_active
        user.full_clean(exclude=["password"])
        user.save(update_fields=["real_name", "org_unit", "phone", "email", "is_active"])
        _set_roles(user, roles)
    return user


def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        api_tokens_revoke(user=user)


def user_is_locked(user: User) -> bool:
    from .selectors import locked_usernames

    return user.username in locked_usernames()


def user_unlock(*, actor: User, user: User) -> int:
    """Clear the login lockout of a user name (an administrator's action)."""
    return axes_reset(username=user.username)


def user_reset_second_factor(*, actor: User, user: User, request=None) -> None:
    """An administrator removes another user's TOTP and backup devices (lost phone); the user enrols again at
    next log-in. Written to the access log; the user's API tokens are revoked. One's own factor is turned off
    with ``second_factor_disable`` (a verified session and a current code), never here."""
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("Turn off your own two-step verification on the My account page."))
    _second_factor_remove(actor=actor, user=user, request=request, how="reset")


def _second_factor_remove(*, actor: User | None, user: User, request, how: str) -> None:
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
        api_tokens_revoke(user=user)
        access_log_record(user=actor, action=AccessAction.SECOND_FACTOR, obj=user, request=request,
                          detail={"change": how, "devices_removed": removed})


def second_factor_enrol(*, user: User, device: TOTPDevice, token: str, session_verified: bool) -> bool:
    """Confirm ``device`` (an unconfirmed TOTP device of ``user``, shown in this session) with a code from it.

    The first device may be enrolled after the password step alone; a further device only from a session that
    passed the second step (else the password alone would yield a second factor). Checked under a lock on the
    user, so two sessions cannot both enrol a "first" device. The confirmed device counts from now
    (``created_at``): a session that began earlier cannot be verified by it. Other unconfirmed devices of the
    user are removed. Returns False when the code is wrong; raises ValidationError when enrolment is refused.
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if not session_verified and TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("Two-step verification is already on: enter the code from your authenticator app."))
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
        if device is None or not device.verify_token(token):
            return False
        device.confirmed = True
        device.created_at = timezone.now()
        device.save(update_fields=["confirmed", "created_at"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return True


def second_factor_disable(*, user: User, token: str, session_verified: bool, request=None) -> None:
    """Turn one's own second factor off: only from a verified session, with a current code from one of one's
    confirmed devices (a stolen session or password alone cannot). Logged; API tokens are revoked."""
    if not session_verified:
        raise ValidationError(_("Verify with your authenticator app first."))
    if settings.OTP_REQUIRED_FOR_ADMINS and user.is_portal_admin:
        raise ValidationError(_("Administrators must keep two-step verification on."))
    with transaction.atomic():  # a wrong code counts towards django-otp's back-off: committed, then refused
        devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        accepted = any(device.verify_token(token) for device in devices)
    if not accepted:
        raise ValidationError({"token": _("The code is wrong or expired. Check the time on your phone and try again.")})
    _second_factor_remove(actor=user, user=user, request=request, how="disable")


# --- API tokens -------------------------------------------------------------------------------


def api_token_issue(*, user: User) -> tuple[AuthToken, str]:
    """A new API token for ``user``, replacing the previous ones. Only its digest is stored: the returned key
    is shown once. It expires after API_TOKEN_TTL_DAYS."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user).delete()
        return AuthToken.objects.create(user=user, expiry=timedelta(days=settings.API_TOKEN_TTL_DAYS))


def api_tokens_revoke(*, user: User) -> int:
    """Revoke all of the user's API tokens (password changed or set, second factor removed)."""
    return AuthToken.objects.filter(user=user).delete()[0]
