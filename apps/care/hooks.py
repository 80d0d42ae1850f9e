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


hooks.register_tab(PersonTab("visits", _("Visits"), "care/person_tab.html", _visits_context, "care.view_visit",
                             order=10))
hooks.register_history_source(_history)


def _moved(ids: list[int]) -> None:
    from .services import person_records_follow

    person_records_follow(ids=ids)


hooks.on_change(_changed)
hooks.on_move(_moved)


def register_outbox() -> None:
    from apps.core.outbox import register

    from .services import RECOMPUTE_KIND, _recompute_from_outbox

    register(RECOMPUTE_KIND, _recompute_from_outbox, queue="reminders", inline=True)
