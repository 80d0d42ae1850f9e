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
