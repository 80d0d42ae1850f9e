"""The liaison pages' kit tables: the pairing list (page and xlsx export share its columns) and a pairing's
monthly task list."""

from __future__ import annotations

from datetime import date

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.lists.tables import Column, Table

from . import services
from .choices import LiaisonStatus

ENDED = format_html(' <span class="badge text-bg-secondary">{}</span>', _("Ended"))
NONE = format_html('<span class="text-muted">{}</span>', "—")
STATUS_BADGE = {LiaisonStatus.DONE: "text-bg-success", LiaisonStatus.IN_PROGRESS: "text-bg-primary"}


def _members(row) -> str:
    return "、".join(str(member) for member in row.members.all())


class PairingTable(Table):
    """Departments and their streets with the month's item counts (``rows`` from ``selectors.pairing_rows``)."""

    table_id = "pairing-table"
    css = "table table-sm table-hover table-portal mb-0 align-middle"
    empty_text = _("No pairings in your area.")

    street = Column(_("Street/town"), "street.name", width=16)
    department = Column(_("Bureau department"), width=18)
    members = Column(_("Liaison officers"), _members, width=30)
    task_count = Column(_("Items"), css="text-end", kind="int", width=10)
    done_count = Column(_("Done"), css="text-end", kind="int", width=10)
    actions = Column("", css="text-end text-nowrap", export=False)

    def __init__(self, rows=(), *, month: date | None = None, **kwargs):
        super().__init__(rows, **kwargs)
        self.month = month
        self.query = f"?month={month:%Y-%m}" if month else ""
        self.may_edit = self.user is not None and self.user.has_perm("liaison.change_liaisonpairing")

    @property
    def headers(self) -> list[dict]:
        heads = super().headers
        if self.month:  # the page names the month its counts are of
            for head, column in zip(heads, self.columns, strict=True):
                if column.name == "task_count":
                    head["label"] = _("Items in %(month)s") % {"month": f"{self.month:%Y-%m}"}
        return heads

    def row_attrs(self, row) -> str:
        return "" if row.is_active else ' class="text-muted"'

    def cell_department(self, row):
        link = format_html('<a href="{}{}">{}</a>', reverse("liaison:pairing_detail", args=[row.pk]), self.query,
                           row.department)
        return link if row.is_active else link + ENDED

    def cell_members(self, row):
        return _members(row) or NONE

    def cell_actions(self, row):
        cell = format_html('<a class="btn btn-sm btn-outline-secondary" href="{}{}"><i class="bi bi-list-check" '
                           'aria-hidden="true"></i> {}</a>', reverse("liaison:pairing_detail", args=[row.pk]),
                           self.query, _("Tasks"))
        if self.may_edit:
            cell += format_html(' <a class="btn btn-sm btn-link" href="{}">{}</a>',
                                reverse("liaison:pairing_edit", args=[row.pk]), _("Edit"))
        return cell


def _due(row):
    if not row.is_overdue:
        return row.due_date.isoformat()
    return format_html('<span class="text-danger fw-semibold">{}</span> <span class="badge text-bg-danger">{}</span>',
                       row.due_date.isoformat(), _("Overdue"))


def _status(row):
    return format_html('<span class="badge {}">{}</span>', STATUS_BADGE.get(row.status, "text-bg-secondary"),
                       row.get_status_display())


class TaskTable(Table):
    """A pairing's items of one month (``rows`` from ``selectors.liaison_task_list``: ``is_overdue`` marked)."""

    table_id = "task-table"
    css = "table table-sm table-portal mb-0 align-middle"
    empty_text = _("No tasks for this month.")

    item = Column(_("Task"), width=40)
    owner = Column(_("Owner"), lambda r: str(r.owner) if r.owner_id else "", css="text-nowrap", width=16,
                   cell=lambda r: str(r.owner) if r.owner_id else "—")
    due_date = Column(_("Due date"), css="text-nowrap", kind="date", width=12, cell=_due)
    status = Column(_("Status"), lambda r: r.get_status_display(), css="text-nowrap", width=10, cell=_status)
    feedback = Column(_("Street feedback"), css="small", width=40, cell=lambda r: linebreaksbr(r.feedback))
    inspection_notes = Column(_("Inspection notes"), css="small", width=40,
                              cell=lambda r: linebreaksbr(r.inspection_notes))
    actions = Column("", css="text-end text-nowrap", export=False)

    def __init__(self, rows=(), **kwargs):
        super().__init__(rows, **kwargs)
        self.may_plan, self.may_report = services.may_plan(self.user), services.may_report(self.user)

    def row_attrs(self, row) -> str:
        return format_html(' id="task-{}"', row.pk)

    def cell_actions(self, row):
        url = reverse("liaison:task_edit", args=[row.pk])
        if self.may_plan:
            return format_html('<a class="btn btn-sm btn-outline-secondary" href="{}"><i class="bi bi-pencil" '
                               'aria-hidden="true"></i> {}</a>', url, _("Edit"))
        if self.may_report:
            return format_html('<a class="btn btn-sm btn-outline-primary" href="{}"><i class="bi bi-chat-left-text" '
                               'aria-hidden="true"></i> {}</a>', url, _("Report progress"))
        return ""
