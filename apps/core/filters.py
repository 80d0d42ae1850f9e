"""FilterSets of core's lists (users), on the list kit's pieces."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .lists.filters import ListFilterSet, UnitChoiceFilter
from .models import OrgUnit, User


class UserFilterSet(ListFilterSet):
    """Accounts by name, user name or phone; role; unit (with the units below)."""

    q = django_filters.CharFilter(method="filter_q", label=_("Name, user name or phone"))
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="groups__name", label=_("Role"))
    unit = UnitChoiceFilter(queryset=OrgUnit.objects.none(), label=_("Org unit"))

    class Meta:
        model = User
        fields = ["q", "role", "unit"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)
        self.filters["unit"].offer(lambda: list(OrgUnit.objects.visible_to(user).filter(depth__lte=2)))

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(username__icontains=value) | Q(real_name__icontains=value) | Q(phone__contains=value))
