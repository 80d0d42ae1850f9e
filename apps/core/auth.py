"""The signed-in user for each request in as few queries as the page shell allows.

Every page starts by loading its user, the user's unit and roles, and the permissions the view checks.
Django's ``ModelBackend`` spends four queries on that (user, unit, groups, user and group permissions
separately); here the user comes with the unit and the role names in one query, and the permissions in
one more. What is loaded is what ``ModelBackend`` would load: nothing is cached beyond the request.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q
from django_otp import device_classes


class PortalBackend(ModelBackend):
    def get_user(self, user_id):
        from .models import User

        user = (User._default_manager.select_related("org_unit")
                .annotate(group_names=ArrayAgg("groups__name", filter=Q(groups__isnull=False), default=[]))
                .filter(pk=user_id).first())
        if user is None or not self.user_can_authenticate(user):
            return None
        user.__dict__["role_names"] = frozenset(user.group_names)  # the cached_property, filled
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            columns = ("content_type__app_label", "codename")
            own = Permission.objects.filter(user=user_obj).values_list(*columns)
            via_groups = Permission.objects.filter(group__user=user_obj).values_list(*columns)
            rows = own.union(via_groups)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache


def has_confirmed_device(user) -> bool:
    """Whether the user has any confirmed second-factor device (one query over every device kind, where
    ``django_otp.user_has_device`` asks each kind in turn)."""
    queries = [model.objects.filter(user=user, confirmed=True).values("pk") for model in device_classes()]
    if not queries:
        return False
    first, *rest = queries
    return first.union(*rest, all=True).exists() if rest else first.exists()
