"""Query-parameter filtering for the API: what the schema says is what is accepted.

django-filter's boolean filter reads any value it does not know (``?is_station=-1.3e307``) as "not given"
and answers 200 with the whole list; here a value other than ``true``/``false`` (or ``1``/``0``) is a 400,
as the schema's ``boolean`` type says, and so is a choice filter sent empty. ``StrictFilterBackend`` is the
API's default filter backend.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError as FormValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet
from rest_framework.exceptions import ValidationError

from ..models import OrgUnit

TRUE = frozenset({"true", "1"})
FALSE = frozenset({"false", "0"})


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false``/``1``/``0`` (any case); empty means not given; anything else is an error."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise FormValidationError(_("Enter true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(RestFilterSet):
    FILTER_DEFAULTS = {**RestFilterSet.FILTER_DEFAULTS, models.BooleanField: {"filter_class": StrictBooleanFilter}}


def refuse_blank(params, filters: dict) -> None:
    """A choice, id or boolean filter sent empty (``?level=``) is a 400: the schema lists its values, and an empty
    one is none of them (leave the parameter out for "any"). Free-text filters may be empty."""
    blank = {name: [_("Leave this parameter out instead of sending it empty.")] for name, flt in filters.items()
             if params.get(name, None) == "" and not isinstance(flt, django_filters.CharFilter)}
    if blank:
        raise ValidationError(blank)


class StrictFilterBackend(DjangoFilterBackend):
    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            refuse_blank(request.query_params, filterset_class.base_filters)
        return super().filter_queryset(request, queryset, view)


class OrgUnitFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name contains, or code starts with"))

    class Meta:
        model = OrgUnit
        fields = ["q", "level", "is_station", "code"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value))
