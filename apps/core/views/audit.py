"""The audit page: data changes, sensitive access, logins and failed logins, with CSV and xlsx."""

from __future__ import annotations

from django.views import View

from .. import selectors, services
from ..choices import AccessAction
from ..exports.csv import csv_response
from ..forms import AuditFilterForm
from ..lists import render_partial
from ..lists.paging import offset_page
from ..lists.views import xlsx_response
from ..scoping import RoleRequiredMixin
from ..tables import AUDIT_TABLES


class AuditView(RoleRequiredMixin, View):
    """Four tabs (data changes, sensitive access, logins, failed logins) on the list kit's tables and pager;
    CSV or xlsx of the filtered tab."""

    permission_required = "core.view_audit"

    def get(self, request):
        form = AuditFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        tab = filters.get("tab") or "history"
        entries = selectors.audit_entries(user=request.user, tab=tab, filters=filters)
        table_class = AUDIT_TABLES[tab]
        if request.GET.get("format") == "csv":
            return self._csv(request, tab, entries)
        if request.GET.get("format") == "xlsx":
            summary = [f"{form.fields[k].label}: {v}" for k, v in filters.items() if v not in (None, "") and k != "tab"]
            return xlsx_response(request, table=table_class(), rows=entries, title=str(dict(AuditFilterForm.TABS)[tab]),
                                 name=f"audit-{tab}", filters=[str(dict(AuditFilterForm.TABS)[tab]), *summary])
        page = offset_page(entries, request.GET)
        table = table_class(list(page.object_list), params=request.GET, target="#audit-table")
        return render_partial(request, "core/audit.html", "core/partials/audit_table.html", {
            "form": form, "tab": tab, "tabs": AuditFilterForm.TABS, "page_obj": page, "table": table,
            "target": "#audit-table", "query": request.GET.copy()})

    def _csv(self, request, tab, entries):
        services.access_log_record(user=request.user, action=AccessAction.EXPORT, request=request,
                                   object_repr=f"audit:{tab}", detail={"filters": request.GET.dict()})

        # formula-like cells (failed-login names, User-Agents, veteran names) stay text: apps.core.exports.csv
        if tab == "access":
            headers = ["time", "user", "action", "object", "ip"]
            rows = ((e.created_at, e.user, e.action, e.object_repr, e.ip_address) for e in entries.iterator())
        elif tab in ("logins", "failures"):
            headers = ["time", "username", "ip", "user_agent"]
            rows = ((e.attempt_time, e.username, e.ip_address, e.user_agent) for e in entries.iterator())
        else:
            headers = ["time", "user", "record", "id", "event", "changes"]
            rows = ((e.pgh_created_at, e.user_id, e.pgh_obj_model, e.pgh_obj_id, e.pgh_label, e.pgh_diff)
                    for e in entries.iterator())
        return csv_response(f"audit-{tab}.csv", headers, rows)
