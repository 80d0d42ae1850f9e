"""The leadership dashboard page and its table downloads (``?format=xlsx&table=…``)."""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from apps.core import figures
from apps.core.choices import AccessAction
from apps.core.exports.xlsx import Watermark, write_xlsx
from apps.core.lists.views import XLSX
from apps.core.reference import pinned, snapshot
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record

from .. import dashboard


class DashboardView(RoleRequiredMixin, View):
    """Figures of one unit of the user's area (``?unit=``, default the top of it) for one period (``?period=``,
    default the running quarter): cards with comparisons, charts, the drill table and the station table."""

    permission_required = "reports.view_dashboard"

    def get(self, request):
        with pinned(request):  # figures' links and breakdowns read the code and unit snapshot once, not per number
            return self.page(request)

    def page(self, request):
        unit = figures.scoped_unit(request.user, request.GET.get("unit"))
        try:
            period = dashboard.period_from(request.GET.get("period"))
        except ValidationError as error:
            return render(request, "reports/dashboard.html", {
                "unit": unit, "error": " ".join(error.messages), "period_text": request.GET.get("period", ""),
                "period_groups": dashboard.period_choices(None), "lineage": [unit]})
        held = snapshot(request)
        if request.GET.get("format") == "xlsx":
            dash = dashboard.dashboard_build(user=request.user, unit=unit, period=period, snapshot=held)
            return self.export(request, dash, request.GET.get("table", ""))
        can_export = request.user.has_perm("reports.export_dashboard")
        # The body (cards, charts, tables) holds figures only, the same for everyone who may see the unit: it is
        # kept per unit, period, language and export button, under the counting times of the figures it shows,
        # so a recount makes a new key and the kept body is never older than its figures.
        key = (f"reports:dashboard:{unit.pk}:{period.key}:{get_language()}:{int(can_export)}:"
               f"{dashboard.figures_version(unit=unit, period=period)}")
        body = cache.get(key)
        if body is None:
            dash = dashboard.dashboard_build(user=request.user, unit=unit, period=period, snapshot=held)
            body = render_to_string("reports/partials/dashboard_body.html", {
                "dash": dash, "unit": unit, "period": period, "chart_data": dash.chart_data(),
                "can_export": can_export})
            cache.set(key, body, timeout=60 * settings.FIGURES_MAX_AGE_MINUTES)
        return render(request, "reports/dashboard.html", {
            "body": mark_safe(body), "unit": unit,  # noqa: S308 — our own rendered template
            "period": period, "previous": period.previous(),
            "last_year": period.same_last_year(), "lineage": dashboard.visible_lineage(request.user, unit, held),
            "period_groups": dashboard.period_choices(period), "can_export": can_export})

    def export(self, request, dash: dashboard.Dashboard, name: str) -> HttpResponse:
        """One table as xlsx: figures only (no person), so the dashboard's own permission, not the registry's
        export permission; logged in the access log like every export."""
        if not request.user.has_perm("reports.export_dashboard"):
            raise PermissionDenied
        table = dashboard.dashboard_table(dash, name)
        if table is None:
            raise Http404
        now = timezone.now()
        filters = [f"{_('Unit')}：{' / '.join(u.name for u in dash.lineage)}", f"{_('Period')}：{dash.period.label}"]
        buffer = BytesIO()
        count = write_xlsx(buffer, sheet_title=table.title[:31], title=table.title, columns=table.columns,
                           rows=table.rows, totals=table.totals or None, watermark=Watermark(request.user, now, filters))
        access_log_record(user=request.user, action=AccessAction.EXPORT, request=request, obj=dash.unit,
                          object_repr=f"dashboard:{table.name}",
                          detail={"kind": "dashboard", "table": table.name, "unit": dash.unit.pk,
                                  "period": dash.period.key, "rows": count})
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        filename = _("dashboard-%(table)s-%(unit)s-%(period)s.xlsx") % {
            "table": table.name, "unit": dash.unit.name, "period": dash.period.key}
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response
