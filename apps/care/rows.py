"""Worklist rows as HTML made in Python: a street's worklist is the page stations open most, and fifty rows
of template tags (twenty variables each, every one resolved, localised and escaped) cost more than the page's
queries. The markup is the template's, escaped the same way (``format_html``)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .choices import EscalationLevel, TaskStatus


def render(tasks: list, *, today: date, next_path: str, can_visit: bool, can_cancel: bool) -> None:
    """Give each task of a worklist page its links, texts and ``row_html``. Links are made once per page and
    filled per row (a reverse() per link per row cost more than the page's queries at 50 rows)."""
    next_query = urlencode({"next": next_path})
    links = {name: reverse(name, args=[0]).replace("/0/", "/{}/") for name in (
        "registry:veteran_detail", "care:visit_create_for_task", "care:task_cancel", "care:visit_detail")}
    overdue_texts: dict[int, str] = {}
    text = labels()
    for task in tasks:
        task.overdue_days = max(0, (today - task.due_date).days) if task.status == TaskStatus.OPEN else 0
        if task.overdue_days and task.overdue_days not in overdue_texts:
            overdue_texts[task.overdue_days] = ngettext("%(n)s day overdue", "%(n)s days overdue",
                                                        task.overdue_days) % {"n": task.overdue_days}
        task.overdue_text = overdue_texts.get(task.overdue_days, "")
        task.due_text = task.due_date.isoformat()
        task.cancel_confirm = _("Mark the visit to %(name)s as no longer needed?") % {"name": task.veteran.name}
        task.person_url = links["registry:veteran_detail"].format(task.veteran_id) + "?tab=visits"
        task.visit_url = links["care:visit_create_for_task"].format(task.pk) + "?" + next_query
        task.cancel_url = links["care:task_cancel"].format(task.pk)
        if task.visit_id:
            task.done_visit_url = links["care:visit_detail"].format(task.visit_id)
        task.row_html = row_html(task, today=today, text=text, can_visit=can_visit, can_cancel=can_cancel)


def labels() -> dict[str, str]:
    """The row texts, translated once per page."""
    return {"home": _("Home visit required"), "visited": _("Visited"), "due_today": _("due today"),
            "to_street": _("Escalated to the street"), "to_bureau": _("Escalated to the bureau"),
            "view_visit": _("View visit"), "late": _("late"), "log_visit": _("Log visit"), "not_needed": _("No longer needed")}


def row_html(t, *, today: date, text: dict[str, str], can_visit: bool, can_cancel: bool) -> SafeString:
    phone = format_html('<div class="small text-muted"><i class="bi bi-telephone"></i> {}</div>',
                        t.veteran.phone) if t.veteran.phone else ""
    home = format_html(' <i class="bi bi-house-door text-secondary" title="{}"></i>', text["home"]) \
        if t.rule.home_visit_required else ""
    if t.status == TaskStatus.DONE:
        visited = t.completed_on or (timezone.localtime(t.closed_at).date() if t.closed_at else None)
        state = format_html('<span class="badge text-bg-success">{}</span> <span class="small text-muted">{}</span>',
                            text["visited"], visited.isoformat() if visited else "")
        if t.is_late:
            state += format_html(' <span class="badge text-bg-danger" data-late="1">{}</span>', text["late"])
        actions = format_html('<a class="btn btn-sm btn-link" href="{}">{}</a>', t.done_visit_url,
                              text["view_visit"]) if t.visit_id else ""
    else:
        state = ""
        if t.overdue_days:
            state = format_html('<span class="badge text-bg-danger" data-overdue="{}">{}</span>', t.overdue_days,
                                t.overdue_text)
        elif t.due_date == today:
            state = format_html('<span class="badge text-bg-warning">{}</span>', text["due_today"])
        if t.level == EscalationLevel.STREET:
            state += format_html(' <span class="badge text-bg-warning" data-escalated="1"><i class="bi bi-arrow-up">'
                                 '</i> {}</span>', text["to_street"])
        elif t.level == EscalationLevel.BUREAU:
            state += format_html(' <span class="badge text-bg-dark" data-escalated="2"><i class="bi bi-arrow-up">'
                                 '</i> {}</span>', text["to_bureau"])
        actions = ""
        if can_visit:
            actions += format_html('<a class="btn btn-sm btn-danger" data-action="log-visit" href="{}">'
                                   '<i class="bi bi-pencil-square"></i> {}</a> ', t.visit_url, text["log_visit"])
        if can_cancel:
            actions += format_html('<button class="btn btn-sm btn-outline-secondary" type="button" '
                                   'data-action="cancel-task" data-cancel-url="{}" data-confirm="{}" '
                                   'data-person="{}">{}</button>', t.cancel_url, t.cancel_confirm, t.veteran.name,
                                   text["not_needed"])
    return format_html(
        '<tr id="task-{pk}" data-task="{pk}"><td><a href="{person_url}">{name}</a>{phone}</td>'
        '<td>{occasion}{home}<div class="small text-muted">{rule}</div></td><td>{unit}</td>'
        '<td class="text-nowrap">{due}</td><td>{state}</td><td class="text-end text-nowrap">{actions}</td></tr>',
        pk=t.pk, person_url=t.person_url, name=t.veteran.name, phone=phone,
        occasion=t.occasion.name if t.occasion else "", home=home, rule=t.rule.name if t.rule else "",
        unit=t.org_unit.name if t.org_unit else "", due=t.due_text, state=mark_safe(state),  # noqa: S308 - built by format_html
        actions=mark_safe(actions))  # noqa: S308 - built by format_html
