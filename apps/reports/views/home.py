"""Home pages by role (registered with core's ``core:home`` by ``apps/reports/hooks.py``).

- Street and village stations: today's work (``StationHomeView``): numbers that each open the list showing the
  same rows, and for a street its villages worst first.
- Leadership, bureau staff and administrators: the dashboard (``reports:dashboard``) once it is installed;
  until then core's summary.
- The 优待证 applications waiting in the user's area (``CardsWaitingListView``): the list behind that number.
"""

from __future__ import annotations

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.lists.filters import ListFilterSet, UnitChoiceFilter
from apps.core.lists.tables import Column, Table
from apps.core.lists.views import ScopedListView
from apps.core.models import OrgUnit
from apps.registry.models import CardEvent, PreferentialCard

from .. import selectors

# --- the home page for each role ---------------------------------------------------------------------------


def station_applies(user) -> bool:
    return selectors.is_station_user(user)


def station_home(request):
    """The station's home page (called by core's home view for station users)."""
    ctx = selectors.station_home(user=request.user)
    return render(request, "reports/home_station.html", ctx)


def dashboard_applies(user) -> bool:
    return user.is_authenticated and user.sees_whole_district and user.has_perm("reports.view_dashboard")


def dashboard_home(request):
    """Leadership, bureau staff and administrators land on the dashboard; ``None`` (core's summary) while the
    dashboard's route is not installed."""
    try:
        url = reverse("reports:dashboard")
    except NoReverseMatch:
        return None
    return HttpResponseRedirect(url)


# --- 优待证 applications waiting -------------------------------------------------------------------------


class CardsWaitingFilterSet(ListFilterSet):
    unit_path_field = "veteran__org_unit__path"

    unit = UnitChoiceFilter(queryset=OrgUnit.objects.none())
    status = django_filters.ChoiceFilter(choices=[(s.value, s.label) for s in selectors.CARDS_WAITING],
                                         label=_("Status"))

    class Meta:
        model = PreferentialCard
        fields = ["unit", "status"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)
        self.filters["unit"].offer(lambda: list(OrgUnit.objects.visible_to(user).filter(depth__lte=3)))


def _person(row) -> str:
    return format_html('<a href="{}?tab=card">{}</a>', row.veteran.get_absolute_url(), row.veteran.name)


class CardsWaitingTable(Table):
    table_id = "cards-waiting-results"
    empty_text = _("No applications are waiting.")

    person = Column(_("Person"), "veteran.name", cell=_person)
    card_type = Column(_("Card type"), lambda r: r.get_card_type_display())
    status = Column(_("Status"), lambda r: r.get_status_display())
    since = Column(_("Since"), "since", kind="date", width=12)
    unit = Column(_("Unit"), "veteran.org_unit.name", width=20)


class CardsWaitingListView(ScopedListView):
    """优待证 applications of the user's area waiting for their next step (applied: the county's check;
    approved: production), the longest waiting first."""

    permission_required = "registry.view_preferentialcard"
    model, filterset_class, table_class = PreferentialCard, CardsWaitingFilterSet, CardsWaitingTable
    title = _("Preferential card applications waiting")
    target = "#cards-waiting-table"
    ordering = {"id": ("id",)}

    def get_queryset(self) -> QuerySet[PreferentialCard]:
        return selectors.cards_waiting_list(user=self.request.user)

    def get_rows(self, queryset):
        latest = CardEvent.objects.filter(card=OuterRef("pk")).order_by("-date", "-id").values("date")[:1]
        return queryset.select_related("veteran__org_unit").annotate(since=Subquery(latest))
