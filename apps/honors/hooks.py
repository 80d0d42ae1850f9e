"""What the honours app adds to the person record: an honours tab, plaques and notices in the history,
and plaques and notices following their person on a transfer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.registry.hooks import HistoryEntry


def person_tab_context(request, veteran) -> dict:
    from . import selectors

    return selectors.person_honours(user=request.user, veteran=veteran)


def history(veteran):
    from .models import MeritNotice, PlaqueRecord

    for record in PlaqueRecord.objects.filter(veteran=veteran).select_related("created_by")[:100]:
        yield HistoryEntry(when=record.created_at, who=str(record.created_by or ""),
                           what=_("Honour plaque: %(action)s on %(date)s (%(plaque)s), present: %(people)s") % {
                               "action": record.get_action_display(), "date": record.date.isoformat(),
                               "plaque": record.get_kind_display(), "people": record.people},
                           link=record.get_absolute_url())
    for notice in MeritNotice.objects.filter(veteran=veteran).select_related("created_by", "delivered_by")[:100]:
        values = {"member": notice.member_name, "award": notice.get_award_display(),
                  "date": notice.notice_date.isoformat()}
        yield HistoryEntry(when=notice.created_at, who=str(notice.created_by or ""),
                           what=_("Merit notice received on %(date)s: %(member)s, %(award)s") % values,
                           link=notice.get_absolute_url())
        if notice.is_delivered:
            yield HistoryEntry(when=notice.delivered_at or notice.created_at,
                               who=str(notice.delivered_by or ""),
                               what=_("Merit notice delivered on %(date)s by %(deliverers)s: %(member)s, %(award)s") % {
                                   **values, "date": notice.delivered_on.isoformat(),
                                   "deliverers": notice.deliverers},
                               link=notice.get_absolute_url())


def moved(ids: list[int]) -> None:
    from .services import person_records_follow

    person_records_follow(ids=ids)


def register() -> None:
    """Called once by apps.core.discovery."""
    from apps.core import navigation
    from apps.core.navigation import NavItem
    from apps.registry import hooks as registry_hooks
    from apps.registry.hooks import PersonTab

    navigation.register(NavItem("honors", gettext_lazy("Plaques and merit notices"), "honors:plaque_list", "award",
                                "honors.view_plaquerecord", order=40))
    registry_hooks.register_tab(PersonTab("honors", gettext_lazy("Honours"), "honors/person_tab.html",
                                          person_tab_context, "honors.view_plaquerecord", order=80))
    registry_hooks.register_history_source(history)
    registry_hooks.on_move(moved)
