"""The honours registers as kit tables (page and xlsx export share the columns)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.lists.tables import Column, Table


def _person(row):
    return format_html('<a href="{}?tab=honors">{}</a>', row.veteran.get_absolute_url(), row.veteran.name)


class PlaqueTable(Table):
    table_id = "plaque-results"
    empty_text = _("No plaque records match.")

    date = Column(_("Date"), kind="date", width=12)
    person = Column(_("Person"), "veteran.name", cell=_person)
    action = Column(_("Action"), lambda r: r.get_action_display())
    kind = Column(_("Plaque"), lambda r: r.get_kind_display())
    people = Column(_("People present"), width=30)
    unit = Column(_("Unit"), "org_unit.name", width=20)
    details = Column("", cell=lambda r: format_html('<a href="{}">{}</a>', r.get_absolute_url(), _("Details")),
                     export=False)


class NoticeTable(Table):
    table_id = "notice-results"
    empty_text = _("No merit notices match.")

    notice_date = Column(_("Notice received"), kind="date", width=12)
    person = Column(_("Family's record"), "veteran.name", cell=_person)
    member_name = Column(_("Serving member"))
    award = Column(_("Award"), lambda r: r.get_award_display())
    delivered_on = Column(_("Delivered on"), kind="date", width=12)
    deliverers = Column(_("Delivered by"), width=24)
    unit = Column(_("Unit"), "org_unit.name", width=20)
    details = Column("", css="text-nowrap", export=False)

    def cell_delivered_on(self, row):
        if row.delivered_on:
            return row.delivered_on.isoformat()
        return format_html('<span class="badge text-bg-warning">{}</span>', _("To deliver"))

    def cell_details(self, row):
        link = format_html('<a href="{}">{}</a>', row.get_absolute_url(), _("Details"))
        if not row.delivered_on and self.user is not None and self.user.has_perm("honors.change_meritnotice"):
            link += format_html(' · <a href="{}">{}</a>', reverse("honors:notice_deliver", args=[row.pk]), _("Deliver"))
        return link
