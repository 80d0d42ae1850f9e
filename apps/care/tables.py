"""The worklist as a kit table: a street's worklist is the page stations open most, so its rows are made in
Python (``apps.core.lists.tables``); links are made once per page and filled per row (a reverse() per link per
row cost more than the page's queries at 50 rows)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.core.lists.tables import Column, Table

from .choices import EscalationLevel, TaskStatus


def _state_text(task) -> str:
    if task.status == TaskStatus.DONE:
        return str(_("Visited"))
    return task.overdue_text or ""


class WorklistTable(Table):
    """Rows are due visits of ``selectors.worklist_page`` (person, occasion, rule and unit attached)."""

    table_id = "worklist-results"
    css = "table table-sm table-hover table-portal align-middle mb-0"
    empty_text = gettext_lazy("Nothing to show here.")

    person = Column(gettext_lazy("Person"), "veteran.name", width=12)
    occasion = Column(gettext_lazy("Occasion"), lambda t: t.occasion.name if t.occasion else "", width=16)
    unit = Column(gettext_lazy("Unit"), lambda t: t.org_unit.name if t.org_unit else "", width=16)
    due = Column(gettext_lazy("Due"), "due_date", css="text-nowrap", kind="date", width=12)
    state = Column(gettext_lazy("State"), _state_text, width=16)
    actions = Column(gettext_lazy("Actions"), css="text-end text-nowrap", export=False)

    def __init__(self, rows=(), *, today: date, next_path: str, can_visit: bool, can_cancel: bool, **kwargs):
        super().__init__(rows, **kwargs)
        self.today, self.can_visit, self.can_cancel = today, can_visit, can_cancel
        self.text = {"home": _("Home visit required"), "visited": _("Visited"), "due_today": _("due today"),
                     "to_street": _("Escalated to the street"), "to_bureau": _("Escalated to the bureau"),
                     "view_visit": _("View visit"), "late": _("late"), "log_visit": _("Log visit"),
                     "not_needed": _("No longer needed")}
        next_query = urlencode({"next": next_path})
        links = {name: reverse(name, args=[0]).replace("/0/", "/{}/") for name in (
            "registry:veteran_detail", "care:visit_create_for_task", "care:task_cancel", "care:visit_detail")}
        overdue_texts: dict[int, str] = {}
        for task in rows:
            task.overdue_days = max(0, (today - task.due_date).days) if task.status == TaskStatus.OPEN else 0
            if task.overdue_days and task.overdue_days not in overdue_texts:
                overdue_texts[task.overdue_days] = ngettext("%(n)s day overdue", "%(n)s days overdue",
                                                            task.overdue_days) % {"n": task.overdue_days}
            task.overdue_text = overdue_texts.get(task.overdue_days, "")
            task.cancel_confirm = _("Mark the visit to %(name)s as no longer needed?") % {"name": task.veteran.name}
            task.person_url = links["registry:veteran_detail"].format(task.veteran_id) + "?tab=visits"
            task.visit_url = links["care:visit_create_for_task"].format(task.pk) + "?" + next_query
            task.cancel_url = links["care:task_cancel"].format(task.pk)
            if task.visit_id:
                task.done_visit_url = links["care:visit_detail"].format(task.visit_id)

    def row_attrs(self, row) -> str:
        return f' id="task-{row.pk}" data-task="{row.pk}"'

    def cell_person(self, t):
        phone = format_html('<div class="small text-muted"><i class="bi bi-telephone" aria-hidden="true"></i> {}</div>',
                            t.veteran.phone) if t.veteran.phone else ""
        return format_html('<a href="{}">{}</a>{}', t.person_url, t.veteran.name, phone)

    def cell_occasion(self, t):
        home = format_html(' <i class="bi bi-house-door text-secondary" title="{}"></i>', self.text["home"]) \
            if t.rule and t.rule.home_visit_required else ""
        return format_html('{}{}<div class="small text-muted">{}</div>', t.occasion.name if t.occasion else "", home,
                           t.rule.name if t.rule else "")

    def cell_state(self, t):
        text = self.text
        if t.status == TaskStatus.DONE:
            visited = t.completed_on or (timezone.localtime(t.closed_at).date() if t.closed_at else None)
            state = format_html('<span class="badge text-bg-success">{}</span> <span class="small text-muted">{}</span>',
                                text["visited"], visited.isoformat() if visited else "")
            if t.is_late:
                state += format_html(' <span class="badge text-bg-danger" data-late="1">{}</span>', text["late"])
            return state
        state = mark_safe("")  # noqa: S308 - empty; the parts below are made by format_html
        if t.overdue_days:
            state = format_html('<span class="badge text-bg-danger" data-overdue="{}">{}</span>', t.overdue_days,
                                t.overdue_text)
        elif t.due_date == self.today:
            state = format_html('<span class="badge text-bg-warning">{}</span>', text["due_today"])
        if t.level == EscalationLevel.STREET:
            state += format_html(' <span class="badge text-bg-warning" data-escalated="1"><i class="bi bi-arrow-up" '
                                 'aria-hidden="true"></i> {}</span>', text["to_street"])
        elif t.level == EscalationLevel.BUREAU:
            state += format_html(' <span class="badge text-bg-dark" data-escalated="2"><i class="bi bi-arrow-up" '
                                 'aria-hidden="true"></i> {}</span>', text["to_bureau"])
        return state

    def cell_actions(self, t):
        text = self.text
        if t.status == TaskStatus.DONE:
            return format_html('<a class="btn btn-sm btn-link" href="{}">{}</a>', t.done_visit_url,
                               text["view_visit"]) if t.visit_id else ""
        actions = mark_safe("")  # noqa: S308 - empty; the parts below are made by format_html
        if self.can_visit:
            actions += format_html('<a class="btn btn-sm btn-danger" data-action="log-visit" href="{}">'
                                   '<i class="bi bi-pencil-square" aria-hidden="true"></i> {}</a> ', t.visit_url,
                                   text["log_visit"])
        if self.can_cancel:
            actions += format_html('<button class="btn btn-sm btn-outline-secondary" type="button" '
                                   'data-action="cancel-task" data-cancel-url="{}" data-confirm="{}" '
                                   'data-person="{}">{}</button>', t.cancel_url, t.cancel_confirm, t.veteran.name,
                                   text["not_needed"])
        return actions
