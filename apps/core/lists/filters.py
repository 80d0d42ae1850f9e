"""Filter pieces shared by every list: choices from the per-process snapshot (no query per drop-down), a unit
filter whose labels tell two same-named villages apart, a year filter, and "全部" as the empty choice."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _
from django_filters import fields as filter_fields

ALL = _("All")  # 全部: the empty choice of every drop-down ("---------" means nothing to a station)
FIRST_YEAR = 2010


class _Choices(BaseChoiceIterator):
    """Choices made from ``objects()`` on first use: a table updated by htmx never renders its filter form, so it
    reads no drop-down (only a value to check does)."""

    def __init__(self, objects, label, empty_label):
        self.objects, self.label, self.empty_label = objects, label, empty_label
        self.loaded: list | None = None
        self.options: dict[str, object] = {}

    def __copy__(self):  # the form's field and its widget copy their choices: all copies share one load
        return self

    def __deepcopy__(self, memo):
        return self

    def load(self) -> list:
        if self.loaded is None:
            objects = list(self.objects() if callable(self.objects) else self.objects)
            self.options = {str(obj.pk): obj for obj in objects}
            empty = [("", self.empty_label)] if self.empty_label is not None else []
            self.loaded = empty + [(obj.pk, self.label(obj)) for obj in objects]
        return self.loaded

    def __iter__(self):
        yield from self.load()

    def __len__(self) -> int:
        return len(self.load())

    def __bool__(self) -> bool:
        return True


class SnapshotChoiceField(filter_fields.ModelChoiceField):
    """A model choice field whose choices and look-ups come from objects already in memory (the code tables and
    unit tree of the per-process snapshot) or read once when first needed: no query per drop-down. Until ``use``
    is called it behaves as the ordinary field (schema generation, forms built elsewhere)."""

    lazy: _Choices | None = None

    def use(self, objects, label=None) -> None:
        """Offer ``objects`` (a list, or a callable returning them when first needed), labelled by ``label(obj)``
        (else the field's ``label_from_instance``)."""
        # Set directly: the choices property would wrap the list in a queryset iterator.
        self.lazy = _Choices(objects, label or self.label_from_instance, self.empty_label)
        self._choices = self.widget.choices = self.lazy

    def to_python(self, value):
        if self.lazy is None:
            return super().to_python(value)
        if value in self.empty_values:
            return None
        self.lazy.load()
        found = self.lazy.options.get(str(value))
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found


class SnapshotChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = SnapshotChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", ALL)
        super().__init__(*args, **kwargs)


def unit_labels(units: list) -> dict[int, str]:
    """Each unit's label: its path of names below the district (``星甸街道 / 高庙社区``), so that two villages of
    the same name in two streets differ in a drop-down (the division code is added where labels still clash).
    ``units`` in tree order."""
    by_path = {unit.path: unit for unit in units}
    labels = {}
    for unit in units:
        names = []
        for end in range(unit.steplen, len(unit.path) + 1, unit.steplen):
            ancestor = by_path.get(unit.path[:end])
            if ancestor is not None and (ancestor.depth > 1 or ancestor is unit):
                names.append(ancestor.name)
        labels[unit.pk] = " / ".join(names) if names else unit.name
    # Units whose ancestors are not in the list (a street station sees its street's villages only) may still share
    # a label: their division code tells them apart.
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    by_pk = {unit.pk: unit for unit in units}
    return {pk: f"{label} ({by_pk[pk].code})" if seen[label] > 1 else label for pk, label in labels.items()}


class UnitChoiceFilter(SnapshotChoiceFilter):
    """The unit with the units below it. Call ``offer(filterset, units, all_units)`` with the user's units (from the
    snapshot) and the whole tree (for the path labels)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Unit (with the units below)"))
        kwargs.setdefault("method", "filter_unit_subtree")
        super().__init__(*args, **kwargs)

    def offer(self, units, all_units: list | None = None) -> None:
        """Offer ``units`` (a list, or a callable returning them when first needed), labelled by their path within
        ``all_units`` (by default within themselves)."""
        labels: dict[int, str] = {}

        def load():
            found = list(units() if callable(units) else units)
            labels.update(unit_labels(all_units if all_units is not None else found))
            return found

        self.field.use(load, label=lambda unit: labels.get(unit.pk, unit.name))


def year_choices(first: int = FIRST_YEAR) -> list[tuple[int, int]]:
    """This year down to ``first`` (built per request: the list has the new year on 1 January)."""
    this_year = timezone.localdate().year
    return [(year, year) for year in range(this_year, first - 1, -1)]


class YearFilter(django_filters.ChoiceFilter):
    """The year of a date field (``field_name``); choices set per request by ``ListFilterSet``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Year"))
        kwargs.setdefault("choices", [])
        kwargs.setdefault("empty_label", ALL)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if value in (None, ""):
            return qs
        return qs.filter(**{f"{self.field_name}__year": int(value)})


class ListFilterSet(django_filters.FilterSet):
    """Base FilterSet of the lists: "全部" as every drop-down's empty choice, years of this year, and the unit
    filter's subtree look-up (``unit_path_field``: the path of the row's unit)."""

    unit_path_field = "org_unit__path"

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        for flt in self.filters.values():  # before the form is built: its fields take these
            if isinstance(flt, YearFilter):
                flt.extra["choices"] = year_choices()
            if isinstance(flt, django_filters.ChoiceFilter | django_filters.ModelChoiceFilter):
                flt.extra.setdefault("empty_label", ALL)

    def filter_unit_subtree(self, queryset: QuerySet, name: str, unit) -> QuerySet:
        return queryset.filter(**{f"{self.unit_path_field}__startswith": unit.path})
