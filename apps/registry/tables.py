"""The register's table (list page, and the columns the veteran export can reuse)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.lists.tables import Column, Table


def _name(row):
    if row.closed_label:
        return format_html('<a href="{}">{}</a> <span class="badge text-bg-secondary">{}</span>', row.url, row.name,
                           row.closed_label)
    return format_html('<a href="{}">{}</a>', row.url, row.name)


class VeteranTable(Table):
    """Rows as ``selectors.attach_names`` prepares them (names from the snapshot, labels, the link)."""

    table_id = "veteran-results"
    empty_text = _("No records match.")

    name = Column(_("Full name"), cell=_name, sort="name", width=12)
    sex = Column(_("Sex"), "sex_label", width=6)
    birth_date = Column(_("Birth date"), cell=lambda row: row.birth_text, sort="birth", kind="date", width=12)
    id_number_masked = Column(_("ID number"), cell="<code>{}</code>", width=22)
    category = Column(_("Category"), "category_name", width=16)
    discharge_mode = Column(_("Discharge mode"), "discharge_mode_name", width=14)
    unit = Column(_("Unit"), "unit_name", width=18)
    phone = Column(_("Phone"), width=14)
    pk = Column(_("Entered"), css="text-muted small", sort="id", kind="int", width=10)

    def row_attrs(self, row) -> str:
        return ' class="text-muted"' if row.closed_label else ""


def _local_time(entry) -> str:
    from django.utils import timezone

    return timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S")


class AccessLogTable(Table):
    """The person's "viewed or exported by" tab (``selectors.veteran_access_log`` rows; ``what`` attached). The IP
    column is for administrators only: ``exclude=["ip_address"]`` for others."""

    css = "table table-sm small mb-0"
    empty_text = _("No entries.")

    created_at = Column(_("Time"), cell=_local_time, kind="datetime", width=18)
    user = Column(_("User"), cell=lambda e: str(e.user) if e.user_id else "—", width=14)
    action = Column(_("Action"), lambda e: e.get_action_display(), width=10)
    what = Column(_("What"), width=30)
    ip_address = Column(_("IP address"), lambda e: e.ip_address or "", width=16)
