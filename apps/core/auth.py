"""The signed-in user for each request in one query.

Every page starts by loading its user, the user's unit and roles, whether the user has a second-factor
device, and the permissions the view and the menu check. Django's ``ModelBackend`` and ``django_otp``
spend five queries on that (user, unit, groups, user and group permissions, one per device kind); here
one query brings them all (subqueries for the role names, the permission names and the device check).
What is loaded is what those would load, for this request only: no user data is cached across requests. The
statement is compiled once per process (building it with the ORM cost three times what running it costs) and
run with the user's id.
"""

from __future__ import annotations

import datetime
import functools
import time

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import device_classes
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .sql import Placeholder, Statement, StatementCache


def _devices(user_ref) -> Q | None:
    condition = None
    for model in device_classes():
        exists = Q(Exists(model.objects.filter(user=user_ref, confirmed=True)))
        condition = exists if condition is None else condition | exists
    return condition


# The user id the statement is compiled with (an int: the primary-key filter converts it), bound per request.
USER_ID = Placeholder("user_id", sentinel=-731_904_262)
_COMPILED = StatementCache(maxsize=8)  # by database alias


@functools.cache
def _columns() -> tuple[list[str], list[str]]:
    """The user's and the unit's fields, in the order the statement selects them."""
    from .models import OrgUnit, User

    return [f.attname for f in User._meta.concrete_fields], [f.attname for f in OrgUnit._meta.concrete_fields]


def _statement(alias: str) -> Statement:
    """The user with unit, role names, permission names and device check as one row, compiled once."""
    return _COMPILED.get(alias, lambda: _build(alias))


def _build(alias: str) -> Statement:
    from django.contrib.auth.models import Group

    from .models import User

    user_ref = OuterRef("pk")
    names = Group.objects.filter(user=user_ref).order_by("name").values("name")
    permissions = (Permission.objects.filter(Q(user=user_ref) | Q(group__user=user_ref))
                   .annotate(full_name=Concat("content_type__app_label", Value("."), "codename"))
                   .order_by().values("full_name").distinct())
    devices = _devices(user_ref)
    user_fields, unit_fields = _columns()
    columns = [*user_fields, *(f"org_unit__{name}" for name in unit_fields)]
    query = (User._default_manager.using(alias)
             .annotate(group_names=ArraySubquery(names), permission_names=ArraySubquery(permissions),
                       has_device=ExpressionWrapper(devices if devices is not None else Q(pk__in=[]),
                                                    output_field=BooleanField()))
             .filter(pk=USER_ID.sentinel).values_list(*columns, "group_names", "permission_names", "has_device")
             .query)
    statement = Statement.compile(*query.sql_with_params(), (USER_ID,))
    if len(statement.slots) != 1:
        raise RuntimeError("the user statement must take the user id exactly once")
    return statement


class PortalBackend(ModelBackend):
    def get_user(self, user_id):
        from .models import OrgUnit, User

        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = User._default_manager.db
        statement = _statement(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(statement.sql, statement.bind(user_id=user_id))
            row = cursor.fetchone()
        if row is None:
            return None
        user_fields, unit_fields = _columns()
        split = len(user_fields) + len(unit_fields)
        user = User.from_db(alias, user_fields, row[: len(user_fields)])
        unit_values = row[len(user_fields): split]
        unit = OrgUnit.from_db(alias, unit_fields, unit_values) if unit_values[0] is not None else None
        User.org_unit.field.set_cached_value(user, unit)
        group_names, permission_names, user.has_device = row[split:]
        if not self.user_can_authenticate(user):
            return None
        user.__dict__["role_names"] = frozenset(group_names)  # the cached_property, filled
        if not user.is_superuser:  # a superuser has every permission: ModelBackend reads them all
            user._perm_cache = set(permission_names)  # what ModelBackend.get_all_permissions would find
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):  # a user not loaded by get_user: one query
            columns = ("content_type__app_label", "codename")
            own = Permission.objects.filter(user=user_obj).values_list(*columns)
            via_groups = Permission.objects.filter(group__user=user_obj).values_list(*columns)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in own.union(via_groups)}
        return user_obj._perm_cache


def has_confirmed_device(user) -> bool:
    """Whether the user has any confirmed second-factor device: read with the user by ``PortalBackend``,
    else one query over every device kind (``django_otp.user_has_device`` asks each kind in turn)."""
    loaded = getattr(user, "has_device", None)
    if loaded is not None:
        return loaded
    queries = [model.objects.filter(user=user, confirmed=True).values("pk") for model in device_classes()]
    if not queries:
        return False
    first, *rest = queries
    return first.union(*rest, all=True).exists() if rest else first.exists()


# --- second factor: when the session began ------------------------------------------------------

SESSION_STARTED_KEY = "auth_started_at"  # epoch seconds of the password step of this session


def remember_session_start(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver (every log-in path: the login page, the admin site, tests' force_login):
    the second step accepts only devices confirmed before this moment (apps.core.views.account.OtpVerifyView)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = time.time()


def devices_for_second_step(user, session):
    """The user's confirmed TOTP devices that may verify this session: those confirmed before it began.
    A device confirmed later (by enrolment in another session) cannot turn a password-only session into a
    verified one. Sessions from before this rule carry no start and accept every confirmed device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    started = session.get(SESSION_STARTED_KEY)
    if started is not None:
        devices = devices.filter(Q(created_at__isnull=True)
                                 | Q(created_at__lte=datetime.datetime.fromtimestamp(started, tz=datetime.UTC)))
    return devices


# --- API tokens ---------------------------------------------------------------------------------


class ApiTokenAuthentication(KnoxTokenAuthentication):
    """``Authorization: Token <key>`` against django-rest-knox's hashed, expiring tokens.

    Differs from knox's class in two ways: a header that is not valid UTF-8 is refused (knox raised, a 500),
    and only the presented token is checked for expiry (knox also read all of the user's other tokens on every
    request to delete expired ones; ``api_tokens_revoke`` and issuing a token remove a user's old tokens)."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")  # noqa: S106 (the header word)
