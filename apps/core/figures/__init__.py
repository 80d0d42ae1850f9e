"""The figure registry kit: named figures every app registers (``<app>/figures.py``), counted per unit and
period, kept, and read by the dashboard, the report forms and the monthly PDF.

- ``registry``: ``Figure`` and ``register``; the rows contract of ``compute``;
- ``periods``: ``Period`` (``2026-11``, ``2026-Q4``, ``2026``);
- ``store``: counting, summing up the unit tree, keeping, freshness, reading;
- here: the scope rule: which unit a user may ask figures for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from .periods import MONTH, QUARTER, YEAR, Period, recent_periods
from .registry import AMOUNT, COUNT, FLOW, LATEST, RATIO, STOCK, Figure, all_figures, get, parse_ref, register
from .store import Reading, ensure, format_value, read, refresh, refresh_hot

if TYPE_CHECKING:
    from ..models import OrgUnit, User

__all__ = [
    "AMOUNT", "COUNT", "FLOW", "LATEST", "MONTH", "QUARTER", "RATIO", "STOCK", "YEAR", "Figure", "Period", "Reading",
    "all_figures", "area_unit", "ensure", "format_value", "get", "parse_ref", "read", "recent_periods", "refresh",
    "refresh_hot", "register", "scoped_unit",
]


def area_unit(user: User) -> OrgUnit | None:
    """The top unit of the user's area: the district for district-wide roles, else the user's own unit."""
    from ..models import OrgUnit
    from ..querysets import scope_path

    path = scope_path(user)
    if path is None:
        return None
    if path == "":
        return OrgUnit.objects.get_first_root_node()
    return user.org_unit


def scoped_unit(user: User, pk: int | str | None = None) -> OrgUnit:
    """The unit whose figures the user asks for: ``pk``, or the top of their area. A unit outside the user's
    area is a 404, like a missing one (its figures are not theirs to see)."""
    from ..models import OrgUnit

    if pk in (None, ""):
        unit = area_unit(user)
        if unit is None:
            raise Http404
        return unit
    try:
        return OrgUnit.objects.visible_to(user).get(pk=int(pk))
    except (OrgUnit.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
