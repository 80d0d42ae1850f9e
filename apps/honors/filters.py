"""One FilterSet per register, shared by its list page and its xlsx export (the list kit's filters)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.core.lists.filters import ListFilterSet, UnitChoiceFilter, YearFilter
from apps.core.models import OrgUnit

from .choices import MeritAward, NoticeStatus, PlaqueAction, PlaqueKind
from .models import MeritNotice, PlaqueRecord


class RegisterFilterSet(ListFilterSet):
    """Unit (with the units below it, among those the user may see; down to villages) and year."""

    unit = UnitChoiceFilter(queryset=OrgUnit.objects.none())

    def __init__(self, data=None, *args, user=None, units: list[OrgUnit] | None = None,
                 all_units: list[OrgUnit] | None = None, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)
        if units is None:  # read when the form is shown or a unit is asked for (not for an htmx page of the table)
            self.filters["unit"].offer(lambda: list(OrgUnit.objects.visible_to(user).filter(depth__lte=3)), all_units)
        else:
            self.filters["unit"].offer([u for u in units if u.depth <= 3], all_units)


class PlaqueRecordFilterSet(RegisterFilterSet):
    year = YearFilter(field_name="date")
    action = django_filters.ChoiceFilter(choices=PlaqueAction.choices, label=_("Action"))
    kind = django_filters.ChoiceFilter(choices=PlaqueKind.choices, label=_("Plaque"))

    class Meta:
        model = PlaqueRecord
        fields = ["unit", "year", "action", "kind"]


class MeritNoticeFilterSet(RegisterFilterSet):
    year = YearFilter(field_name="notice_date")
    award = django_filters.ChoiceFilter(choices=MeritAward.choices, label=_("Award"))
    status = django_filters.ChoiceFilter(choices=NoticeStatus.choices, method="filter_status", label=_("Status"))

    class Meta:
        model = MeritNotice
        fields = ["unit", "year", "award", "status"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(delivered_on__isnull=value == NoticeStatus.OPEN)
