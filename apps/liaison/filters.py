"""The pairing list's FilterSet (the list kit's filters): street, department, active or ended."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.core.lists.filters import ListFilterSet, UnitChoiceFilter
from apps.core.models import OrgUnit

from . import selectors
from .models import LiaisonPairing

ACTIVE, ENDED = "active", "ended"


class PairingFilterSet(ListFilterSet):
    """Street/town (among those the user may see), a part of the department's name, active or ended."""

    unit_path_field = "street__path"

    street = UnitChoiceFilter(queryset=OrgUnit.objects.none(), label=_("Street/town"))
    department = django_filters.CharFilter(lookup_expr="icontains", label=_("Bureau department"))
    state = django_filters.ChoiceFilter(choices=[(ACTIVE, _("Active")), (ENDED, _("Ended"))], method="filter_state",
                                        label=_("Status"))

    class Meta:
        model = LiaisonPairing
        fields = ["street", "department", "state"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)
        # Read when the form is shown or a street is asked for (not for an htmx page of the table).
        self.filters["street"].offer(lambda: list(selectors.liaison_streets(user=user)))

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == ACTIVE)
