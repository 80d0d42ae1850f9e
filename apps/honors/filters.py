"""One FilterSet per register, shared by its list page (and any export that follows)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import OrgUnit

from .choices import MeritAward, NoticeStatus, PlaqueAction, PlaqueKind
from .models import MeritNotice, PlaqueRecord

FIRST_YEAR = 2010


def year_choices() -> list[tuple[int, int]]:
    this_year = timezone.localdate().year
    return [(year, year) for year in range(this_year, FIRST_YEAR - 1, -1)]


class ScopedUnitFilterSet(django_filters.FilterSet):
    """Unit (with the units below it, among those the user may see) and year of ``date_field``."""

    date_field = "date"

    unit = django_filters.ModelChoiceFilter(queryset=OrgUnit.objects.none(), method="filter_unit",
                                            label=_("Unit (with the units below)"))
    year = django_filters.ChoiceFilter(choices=[], method="filter_year", label=_("Year"))

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        # Built per request, so that the list has the new year on 1 January.
        self.filters["year"].extra["choices"] = year_choices()
        self.filters["unit"].queryset = OrgUnit.objects.visible_to(user).filter(depth__lte=3)
        self.form.fields["unit"].queryset = self.filters["unit"].queryset

    def filter_unit(self, queryset: QuerySet, name: str, unit: OrgUnit) -> QuerySet:
        return queryset.filter(org_unit__path__startswith=unit.path)

    def filter_year(self, queryset: QuerySet, name: str, year: str) -> QuerySet:
        return queryset.filter(**{f"{self.date_field}__year": int(year)})


class PlaqueRecordFilterSet(ScopedUnitFilterSet):
    action = django_filters.ChoiceFilter(choices=PlaqueAction.choices, label=_("Action"))
    kind = django_filters.ChoiceFilter(choices=PlaqueKind.choices, label=_("Plaque"))

    class Meta:
        model = PlaqueRecord
        fields = ["unit", "year", "action", "kind"]


class MeritNoticeFilterSet(ScopedUnitFilterSet):
    date_field = "notice_date"

    award = django_filters.ChoiceFilter(choices=MeritAward.choices, label=_("Award"))
    status = django_filters.ChoiceFilter(choices=NoticeStatus.choices, method="filter_status", label=_("Status"))

    class Meta:
        model = MeritNotice
        fields = ["unit", "year", "award", "status"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(delivered_on__isnull=value == NoticeStatus.OPEN)
