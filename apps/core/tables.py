"""Tables of core's lists (users, the audit tabs): page and xlsx export share the columns."""

from __future__ import annotations

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .lists.tables import Column, Table


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _time_text(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class UserTable(Table):
    """``locked``: the user names locked out now (set by the view)."""

    empty_text = _("No users match.")
    locked: set[str] = frozenset()

    username = Column(_("User name"), width=16)
    real_name = Column(_("Real name"), width=12)
    org_unit = Column(_("Org unit"), lambda u: u.org_unit.name if u.org_unit else "", width=20)
    roles = Column(_("Roles"), lambda u: "、".join(g.name for g in u.groups.all()), width=24)
    status = Column(_("Status"), lambda u: str(_("Active") if u.is_active else _("Disabled")), width=8)
    last_login = Column(_("Last log-in"), lambda u: _local(u.last_login), css="small", kind="datetime", width=18)

    @staticmethod
    def status_label(account, locked):
        if account.username in locked:
            return _("Locked")
        return _("Active") if account.is_active else _("Disabled")

    def cell_username(self, u):
        return format_html('<a href="{}">{}</a>', u.get_absolute_url(), u.username)

    def cell_org_unit(self, u):
        return u.org_unit.name if u.org_unit else "—"

    def cell_roles(self, u):
        return format_html_join(" ", '<span class="badge text-bg-light border">{}</span>', ((g.name,) for g in u.groups.all()))

    def cell_status(self, u):
        css = "text-bg-danger" if u.username in self.locked else ("text-bg-success" if u.is_active else "text-bg-secondary")
        return format_html('<span class="badge {}">{}</span>', css, self.status_label(u, self.locked))

    def cell_last_login(self, u):
        return timezone.localtime(u.last_login).strftime("%Y-%m-%d %H:%M") if u.last_login else "—"


def _user_text(entry) -> str:
    return str(entry.user) if entry.user_id else ""


class AccessTable(Table):
    """The audit's sensitive-access tab."""

    css = "table table-sm table-portal mb-0 small"
    empty_text = _("No entries.")

    created_at = Column(_("Time"), lambda e: _local(e.created_at), kind="datetime", width=18)
    user = Column(_("User"), _user_text, width=14)
    action = Column(_("Action"), lambda e: e.get_action_display(), width=10)
    object_repr = Column(_("Object"), width=40)
    ip_address = Column(_("IP address"), lambda e: e.ip_address or "", width=16)

    def cell_created_at(self, e):
        return _time_text(e.created_at)

    def cell_user(self, e):
        return _user_text(e) or "—"


class LoginTable(Table):
    """The audit's login and failed-login tabs."""

    css = AccessTable.css
    empty_text = _("No entries.")

    attempt_time = Column(_("Time"), lambda e: _local(e.attempt_time), kind="datetime", width=18)
    username = Column(_("User name"), width=16)
    ip_address = Column(_("IP address"), width=16)
    user_agent = Column(_("Browser"), css="text-truncate", width=60)

    def cell_attempt_time(self, e):
        return _time_text(e.attempt_time)

    def cell_user_agent(self, e):
        agent = e.user_agent or ""
        return agent if len(agent) <= 60 else agent[:59] + "…"


def _history_user(e) -> str:
    """Who made the change: the request's user, else the management command (as the template's ``firstof``)."""
    user = getattr(e, "user", None)
    if user:
        return str(user)
    context = getattr(e, "pgh_context", None)
    command = context.get("command") if isinstance(context, dict) else getattr(context, "command", None)
    return str(command or "")


def _changes_text(e) -> str:
    from .templatetags.portal import field_label

    return "; ".join(f"{field_label(field, e.pgh_obj_model)}: {change[0]} → {change[1]}"
                     for field, change in (e.pgh_diff or {}).items())


class HistoryTable(Table):
    """The audit's data-change tab (pghistory events)."""

    css = AccessTable.css
    empty_text = _("No entries.")

    pgh_created_at = Column(_("Time"), lambda e: _local(e.pgh_created_at), kind="datetime", width=18)
    user = Column(_("User"), _history_user, width=14)
    record = Column(_("Record"), lambda e: f"{_model_label(e.pgh_obj_model)} #{e.pgh_obj_id}", width=24)
    pgh_label = Column(_("Event"), width=12)
    changes = Column(_("Changes"), _changes_text, width=60)

    def cell_pgh_created_at(self, e):
        return _time_text(e.pgh_created_at)

    def cell_user(self, e):
        return _history_user(e) or "—"

    def cell_changes(self, e):
        from .templatetags.portal import field_label

        if not e.pgh_diff:
            return "—"
        return format_html_join("", '<div><span class="text-muted">{}</span>: {} → {}</div>', (
            (field_label(field, e.pgh_obj_model), change[0] or "∅", change[1] or "∅")
            for field, change in e.pgh_diff.items()))


def _model_label(label: str) -> str:
    from .templatetags.portal import model_label

    return model_label(label)


AUDIT_TABLES = {"history": HistoryTable, "access": AccessTable, "logins": LoginTable, "failures": LoginTable}
