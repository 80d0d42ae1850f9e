"""What the care app adds to the person record: a visits tab, visits in the history, recompute on change,
and its records following the person on a transfer."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.registry import hooks
from apps.registry.hooks import HistoryEntry, PersonTab


def _visits_context(request, veteran) -> dict:
    from . import selectors

    return selectors.person_care(user=request.user, veteran=veteran)


def _history(veteran):
    from .models import Visit

    for visit in Visit.objects.filter(veteran=veteran).select_related("occasion", "created_by")[:200]:
        yield HistoryEntry(when=visit.created_at, who=str(visit.created_by or ""),
                           what=_("Visit: %(occasion)s on %(date)s by %(visitors)s") % {
                               "occasion": visit.occasion.name, "date": visit.date.isoformat(),
                               "visitors": visit.visitors},
                           link=visit.get_absolute_url())


def _changed(ids: list[int]) -> None:
    """Run from the registry's outbox row once the change committed: recompute here, in that transaction."""
    from .services import people_recompute

    people_recompute(ids=ids)


def _moved(ids: list[int]) -> None:
    from .services import person_records_follow

    person_records_follow(ids=ids)


def register() -> None:
    """Called once by apps.core.discovery."""
    from apps.core import navigation
    from apps.core.navigation import NavItem
    from apps.core.outbox import register as register_outbox

    from .services import RECOMPUTE_KIND, _recompute_from_outbox

    navigation.register(NavItem("care_worklist", _("Visits to make"), "care:worklist", "calendar-check",
                                "care.view_duevisit", order=20))
    # The calendar and the campaigns are opened from the worklist's header (the menu stays on one line).
    navigation.register(NavItem("care_rules", _("Visit rules"), "care:rule_list", "sliders",
                                "care.change_visitrule", order=23))
    hooks.register_tab(PersonTab("visits", _("Visits"), "care/person_tab.html", _visits_context, "care.view_visit",
                                 order=70))
    hooks.register_history_source(_history)
    hooks.on_change(_changed)
    hooks.on_move(_moved)
    register_outbox(RECOMPUTE_KIND, _recompute_from_outbox, queue="reminders", inline=True)
