"""One FilterSet for veterans, shared by the list page, the export and the API."""

from __future__ import annotations

import functools
import operator
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import reference
from apps.core.lists.filters import ListFilterSet, SnapshotChoiceFilter, UnitChoiceFilter
from apps.core.models import OrgUnit

from . import crypto, idnumber
from .choices import CodeKind, Sex, VeteranStatus
from .models import CareEntitlement, Code, Veteran

# A search is counted to a lower cap than the list: a common surname matches 9,000 people of a street, and counting
# them all would read 70,000 entries of the name index; "more than 1000" tells the user to narrow the search.
SEARCH_COUNT_CAP = 1_000

AGE_BANDS = [
    ("0-39", _("under 40")),
    ("40-59", _("40–59")),
    ("60-79", _("60–79")),
    ("80-", _("80 and over")),
]

ORDERINGS = {
    "-id": ("-id",),
    "id": ("id",),
    "name": ("name_pinyin", "id"),
    "-name": ("-name_pinyin", "-id"),
    "birth": ("birth_date", "id"),
    "-birth": ("-birth_date", "-id"),
}

ID_LIKE = re.compile(r"^(\d{15}|\d{17}[\dX])$")
PHONE_LIKE = re.compile(r"^(1\d{10}|0\d{9,11})$")
LETTERS = re.compile(r"^[a-z]+$")
# A name, pinyin or initials search whose matches in the user's filters are at most this many is answered from
# their ids (see ``narrow``); the same number caps the search's count.
NARROW_MAX = SEARCH_COUNT_CAP


def search_terms(text: str) -> tuple[list[Q], bool]:
    """What the one box looks for: exact ID number (blind index), phone, or a prefix of the name, the full pinyin
    or the initials. Returns the alternatives (a record matches any of them) and whether they are prefixes."""
    text = text.strip()
    if not text:
        return [], False
    normalized = idnumber.normalize(text)
    number = id_search_number(normalized)
    if number is not None:
        return [Q(id_number_hash=crypto.blind_index(number))], False
    if PHONE_LIKE.match(normalized):
        return [Q(phone=normalized)], False
    lowered = normalized.lower()
    if LETTERS.match(lowered):
        return [Q(name_initials__startswith=lowered), Q(name_pinyin__startswith=lowered)], True
    return [Q(name__startswith="".join(text.split()))], True


def id_search_number(text: str) -> str | None:
    """The full ID number (18 digits) a search is for, or None when the text is not one."""
    normalized = idnumber.normalize(text)
    if not ID_LIKE.match(normalized):
        return None
    return idnumber.convert_15(normalized) if len(normalized) == 15 else normalized


# --- search by full ID number without the number in a URL -------------------------------------------------------
# The list's search form POSTs a full ID number (``views.VeteranSearchView``); the session keeps the number's blind
# index and masked form under a random token, and the list is opened with ``?idt=<token>``. Neither the URL, the
# server's log nor the browser's history holds the number, and the token means nothing outside the session.
ID_SEARCH_SESSION_KEY = "registry_id_searches"
ID_SEARCH_KEEP = 20  # the latest searches of a session stay usable (back button, pages, sorting)


@dataclass(frozen=True)
class IdSearch:
    blind_index: str | None  # None: the token is unknown or expired (the list shows nothing)
    masked: str = ""


def id_search_store(session, number: str) -> str:
    """Keep a search for ``number`` in the session; returns its token."""
    token = secrets.token_urlsafe(12)
    searches = dict(session.get(ID_SEARCH_SESSION_KEY) or {})
    searches[token] = [crypto.blind_index(number), idnumber.mask(number)]
    for old in list(searches)[:-ID_SEARCH_KEEP]:
        del searches[old]
    session[ID_SEARCH_SESSION_KEY] = searches
    return token


def id_search_lookup(session, token: str) -> IdSearch:
    found = (session.get(ID_SEARCH_SESSION_KEY) or {}).get(token or "")
    return IdSearch(*found) if found else IdSearch(None)


def any_of(terms: list[Q]) -> Q:
    return functools.reduce(operator.or_, terms)


def narrow(queryset: QuerySet[Veteran], terms: list[Q]) -> tuple[QuerySet[Veteran], int]:
    """A prefix search, answered from its matches' ids when they are few.

    Ordered by id or name, the planner walks that order's index and tests every record until it has a page: it
    cannot know that the 500 people of a street whose initials are ``zs`` are spread over the whole table (one
    page read 107,000 records: 33 ms). Each prefix index gives its matches' ids at once (one index-only scan per
    alternative: an OR of two prefixes sent the planner back to walking the table); when there are at most
    ``NARROW_MAX`` of them, the page is read by id (an exact list the planner counts). More matches are dense
    enough for the ordered walk to find a page soon. Returns the queryset and the number of matches counted up to
    ``NARROW_MAX + 1`` (the page's capped count, so the page does not count them again).
    """
    firsts = [queryset.filter(term).order_by().values_list("pk", flat=True)[: NARROW_MAX + 1] for term in terms]
    ids = list(firsts[0].union(*firsts[1:]) if len(firsts) > 1 else firsts[0])
    if len(ids) <= NARROW_MAX:
        return queryset.filter(pk__any_of=ids), len(ids)
    return queryset.filter(any_of(terms)), NARROW_MAX + 1


def age_band_range(band: str, today: date | None = None) -> tuple[date | None, date | None]:
    """Birth dates (after, on-or-before) of people whose age is in the band."""
    today = today or timezone.localdate()
    low, _sep, high = band.partition("-")

    def years_ago(n: int) -> date:
        try:
            return today.replace(year=today.year - n)
        except ValueError:  # 29 February
            return today.replace(year=today.year - n, day=28)

    born_before = years_ago(int(low)) if low else None  # at least `low` years old
    born_after = years_ago(int(high) + 1) if high else None  # at most `high` years old
    return born_after, born_before


def snapshot_units(user, snapshot: reference.Snapshot) -> list[OrgUnit]:
    """The units of the user's area (``OrgUnit.objects.visible_to``), from the snapshot (no query)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.sees_whole_district:
        return snapshot.units
    unit = snapshot.unit_by_pk.get(user.org_unit_id) if user.org_unit_id else None
    if unit is None or not user.has_station_scope:
        return []
    return snapshot.subtree(unit)


# Code filters: name → code table.
CODE_FILTERS = {"category": CodeKind.CATEGORY, "care": CodeKind.CARE_CATEGORY,
                "discharge_mode": CodeKind.DISCHARGE_MODE, "tag": CodeKind.TAG}


class VeteranFilterSet(ListFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name, pinyin, initials, ID number or phone"))
    unit = UnitChoiceFilter(queryset=OrgUnit.objects.none(), method="filter_unit")
    category = SnapshotChoiceFilter(field_name="primary_category", label=_("Collection category"),
                                    queryset=Code.objects.filter(kind=CodeKind.CATEGORY))
    care = SnapshotChoiceFilter(queryset=Code.objects.filter(kind=CodeKind.CARE_CATEGORY),
                                method="filter_care", label=_("Care category"))
    discharge_mode = SnapshotChoiceFilter(queryset=Code.objects.filter(kind=CodeKind.DISCHARGE_MODE),
                                          label=_("Discharge mode"))
    tag = SnapshotChoiceFilter(queryset=Code.objects.filter(kind=CodeKind.TAG), field_name="tags",
                               label=_("Tag"))
    age = django_filters.ChoiceFilter(choices=AGE_BANDS, method="filter_age", label=_("Age"))
    sex = django_filters.ChoiceFilter(choices=Sex.choices, label=_("Sex"))
    # Empty: on the register only (the default); "all" includes closed records.
    status = django_filters.ChoiceFilter(choices=[("all", _("All")), *VeteranStatus.choices], label=_("Status"),
                                         empty_label=_("On register"), method="filter_status")
    ordering = django_filters.ChoiceFilter(choices=[(k, k) for k in ORDERINGS], method="filter_ordering",
                                           label=_("Order"))
    # Hidden: set by the links of the dashboard's figures (apps/registry/figures.py), kept by the filter bar.
    # ``as_at``: on the register at the end of that day (closed records included when they left after it).
    as_at = django_filters.DateFilter(method="filter_as_at", widget=forms.HiddenInput, label=_("On register on"))
    born_from = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte", widget=forms.HiddenInput,
                                          label=_("Born on or after"))
    born_to = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte", widget=forms.HiddenInput,
                                        label=_("Born on or before"))
    created_from = django_filters.DateFilter(method="filter_created_from", widget=forms.HiddenInput,
                                             label=_("Created on or after"))
    created_to = django_filters.DateFilter(method="filter_created_to", widget=forms.HiddenInput,
                                           label=_("Created on or before"))
    complete = django_filters.ChoiceFilter(choices=[("yes", _("Complete")), ("no", _("Incomplete"))],
                                           method="filter_complete", widget=forms.HiddenInput,
                                           label=_("Required fields"))

    class Meta:
        model = Veteran
        fields = ["q", "unit", "category", "care", "discharge_mode", "tag", "age", "sex", "status", "as_at",
                  "born_from", "born_to", "created_from", "created_to", "complete"]

    def __init__(self, data=None, *args, user=None, snapshot: reference.Snapshot | None = None,
                 id_search: IdSearch | None = None, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)
        self.id_search = id_search  # a search by full ID number, resolved from its token (see ``id_search_store``)
        # The field may already be built (and copied from the class) by schema generation: set both.
        units = OrgUnit.objects.visible_to(user)
        self.filters["unit"].queryset = units
        self.filters["unit"].field.queryset = units
        # Choices and look-ups from the in-memory code tables and unit tree: no query per drop-down.
        self.snapshot = snapshot or reference.snapshot()
        self.filters["unit"].offer(self.visible_units(user), self.snapshot.units)
        for name, kind in CODE_FILTERS.items():
            self.filters[name].field.use(self.snapshot.by_kind.get(kind, []))

    def visible_units(self, user) -> list[OrgUnit]:
        return snapshot_units(user, self.snapshot)

    # Matches of a name search counted up to NARROW_MAX + 1 while filtering (None: not counted).
    match_count: int | None = None
    prefix_terms: list[Q] | None = None  # a name search, applied by ``narrow`` after the other filters

    @property
    def qs(self):
        if not hasattr(self, "_final_qs"):  # built once: a name search reads its matches' ids
            qs = super().qs
            if self.id_search is not None:
                qs = (qs.filter(id_number_hash=self.id_search.blind_index) if self.id_search.blind_index
                      else qs.none())
            data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
            if not data.get("status") and not data.get("as_at"):
                qs = qs.filter(status=VeteranStatus.ACTIVE)
            if not data.get("ordering"):
                qs = qs.order_by(*ORDERINGS["-id"])
            if self.prefix_terms:
                qs, self.match_count = narrow(qs, self.prefix_terms)
            self._final_qs = qs
        return self._final_qs

    def filter_q(self, queryset, name, value):
        terms, prefix = search_terms(value)
        if prefix:  # applied last, by ``narrow``, on the other filters' result
            self.prefix_terms = terms
            return queryset
        return queryset.filter(any_of(terms)) if terms else queryset

    def filter_unit(self, queryset, name, value: OrgUnit):
        # The unit ids as a literal list (not a sub-select): the planner then knows how many rows they hold.
        return queryset.filter(org_unit__in=self.snapshot.subtree_pks(value))

    def filter_care(self, queryset, name, value: Code):
        return queryset.filter(Exists(CareEntitlement.objects.filter(veteran=OuterRef("pk"), category=value)))

    def filter_age(self, queryset, name, value: str):
        born_after, born_before = age_band_range(value)
        if born_after:
            queryset = queryset.filter(birth_date__gt=born_after)
        if born_before:
            queryset = queryset.filter(birth_date__lte=born_before)
        return queryset

    def filter_status(self, queryset, name, value: str):
        return queryset if value == "all" else queryset.filter(status=value)

    def filter_as_at(self, queryset, name, value: date):
        from .selectors import on_register_q

        return queryset.filter(on_register_q(value))

    def filter_created_from(self, queryset, name, value: date):
        from .selectors import day_end

        return queryset.filter(created_at__gte=day_end(value - timedelta(days=1)))

    def filter_created_to(self, queryset, name, value: date):
        from .selectors import day_end

        return queryset.filter(created_at__lt=day_end(value))

    def filter_complete(self, queryset, name, value: str):
        from .selectors import complete_q

        return queryset.filter(complete_q()) if value == "yes" else queryset.exclude(complete_q())

    def filter_ordering(self, queryset, name, value: str):
        return queryset.order_by(*ORDERINGS[value])
