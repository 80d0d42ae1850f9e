"""Region scoping: the one place that decides which rows a user may see.

Every model that belongs to a place uses a manager built from :class:`ScopedQuerySet` and every
page, API endpoint, export, report and task acting for a user calls ``visible_to(user)``.
Deny by default: an anonymous or inactive user, a user without a unit, or a role that has no
place scope (enterprise contact) sees nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from treebeard.mp_tree import MP_NodeQuerySet

if TYPE_CHECKING:
    from .models import OrgUnit, User


def scope_path(user: User | None) -> str | None:
    """The user's area as a unit-tree path prefix: ``""`` for the whole district, a unit's path for that unit
    and everything below it, ``None`` for nothing (anonymous, inactive, no unit, or a role without a place)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.sees_whole_district:
        return ""
    unit = user.org_unit
    if unit is None or not user.has_station_scope:
        return None
    return unit.path


def visible_unit_ids(user: User | None, units: Iterable[OrgUnit]) -> set[int]:
    """Which of ``units`` (e.g. the per-process snapshot's tree, ``apps.core.reference``) the user may see, in
    plain Python: the same rule as ``OrgUnit.objects.visible_to(user)`` without a query."""
    path = scope_path(user)
    if path is None:
        return set()
    return {unit.pk for unit in units if unit.path.startswith(path)}


class ScopedQuerySet(models.QuerySet):
    """A queryset of rows that carry the OrgUnit responsible for them.

    ``scope_field`` is the lookup path from the model to its ``OrgUnit`` foreign key.
    """

    scope_field: str = "org_unit"

    def visible_to(self, user: User | None, *, units: Iterable[OrgUnit] | None = None) -> ScopedQuerySet:
        """The rows of the user's area. ``units``: the user's visible units when the caller has read them
        already (``OrgUnit.objects.visible_to(user)``, e.g. a form's unit choices); the filter then names
        their ids, which lets the planner count them, instead of a subquery on the unit tree. Units outside
        the user's area among them are ignored."""
        path = scope_path(user)
        if path is None:
            return self.none()
        if path == "":
            return self
        from .models import OrgUnit

        if units is not None:
            subtree = sorted(visible_unit_ids(user, units))
        else:
            subtree = OrgUnit.objects.filter(path__startswith=path).values("pk")
        return self.filter(**{f"{self.scope_field}__in": subtree})


def scoped_queryset(field: str) -> type[ScopedQuerySet]:
    """A ScopedQuerySet subclass whose rows reach their OrgUnit through ``field``."""
    return type(f"ScopedQuerySet_{field}", (ScopedQuerySet,), {"scope_field": field})


class OrgUnitQuerySet(MP_NodeQuerySet):
    def visible_to(self, user: User | None) -> OrgUnitQuerySet:
        path = scope_path(user)
        if path is None:
            return self.none()
        return self.filter(path__startswith=path) if path else self


class UserQuerySet(ScopedQuerySet):
    """Users are scoped by their own unit, like any other place-bound record."""


class OwnedQuerySet(models.QuerySet):
    """Rows that belong to one user (notifications, background jobs): a user sees only their own."""

    owner_fields: tuple[str, ...] = ("recipient", "user")

    def visible_to(self, user: User | None) -> OwnedQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        field = next(f for f in self.owner_fields if any(x.name == f for x in self.model._meta.fields))
        return self.filter(**{field: user})


class AuditQuerySet(models.QuerySet):
    """Audit rows are visible only to those who may review the audit (administrators)."""

    def visible_to(self, user: User | None) -> AuditQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_perm("core.view_audit"):
            return self
        return self.none()
