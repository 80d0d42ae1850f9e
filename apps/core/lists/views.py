"""One generic list view: scoped queryset → FilterSet → Table → pager → full page or htmx partial → xlsx export.

A list page is a subclass naming its pieces (NetBox's ObjectListView idea)::

    class PlaqueListView(ScopedListView):
        permission_required = "honors.view_plaquerecord"
        export_permission = "honors.view_plaquerecord"
        model, filterset_class, table_class = PlaqueRecord, PlaqueRecordFilterSet, PlaqueTable
        title = _("Honour plaques")

The queryset is always ``model.objects.visible_to(user)`` (out of scope = not in the list, nor in its export).
``?format=xlsx`` writes the table's exported columns through the shared writer, watermarked with the user, the
time and the filters, and is logged in the access log.
"""

from __future__ import annotations

from io import BytesIO

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from django.views.generic import TemplateView

from apps.core.scoping import RoleRequiredMixin

from .htmx import is_partial, vary_on_htmx
from .paging import keyset_page, offset_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ScopedListView(RoleRequiredMixin, TemplateView):
    """The generic list page (see the module docstring). ``ordering`` maps each ``?ordering=`` key to its
    ``order_by``; a sortable column (``Column(sort="name")``) needs both ``"name"`` and ``"-name"`` there."""

    model = None
    filterset_class = None
    table_class = None
    title = ""
    template_name = "components/list_page.html"
    partial_template_name = "components/list_table.html"
    target = "#list-table"  # the element the partial replaces
    pager = "offset"  # or "keyset" (the queryset must then be ordered on its own columns, ending with a unique one)
    page_size = 50
    count_cap = 10_000
    ordering: dict[str, tuple[str, ...]] = {}  # ?ordering= key → order_by (the first is the default)
    export_permission: str | None = None  # who may download ?format=xlsx (None: no export)
    export_max_rows = 50_000
    export_name = "list"

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_filterset(self):
        return self.filterset_class(self.request.GET or None, queryset=self.get_queryset(), user=self.request.user)

    def get_rows(self, queryset):
        """The filtered queryset as the table reads it (select_related, only …)."""
        return queryset

    def current_ordering(self) -> str:
        key = self.request.GET.get("ordering", "")
        return key if key in self.ordering else next(iter(self.ordering), "")

    def order(self, queryset):
        key = self.current_ordering()
        return queryset.order_by(*self.ordering[key]) if key else queryset

    def can_export(self) -> bool:
        return self.export_permission is not None and self.request.user.has_perm(self.export_permission)

    def get(self, request, *args, **kwargs):
        self.filterset = self.get_filterset()
        self.rows = self.order(self.get_rows(self.filterset.qs))
        if request.GET.get("format") == "xlsx":
            if not self.can_export():
                raise PermissionDenied
            return self.export(self.rows)
        return vary_on_htmx(super().get(request, *args, **kwargs))

    def get_template_names(self):
        return [self.partial_template_name] if is_partial(self.request) else [self.template_name]

    def paginate(self, rows):
        if self.pager == "keyset":
            page = keyset_page(rows, self.request.GET, size=self.page_size, count_cap=self.count_cap)
            return page, page.rows
        page = offset_page(rows, self.request.GET, size=self.page_size)
        return page, list(page.object_list)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        page, rows = self.paginate(self.rows)
        ctx.update(filter=self.filterset, page=page, page_obj=page, title=self.title, target=self.target,
                   partial_template=self.partial_template_name,
                   table=self.get_table(rows), object_list=rows,
                   pager_template=f"components/{'keyset_pager' if self.pager == 'keyset' else 'pager'}.html",
                   list_url=self.request.path, ordering=self.request.GET.get("ordering", ""), query=self.request.GET)
        if self.can_export():
            params = self.request.GET.copy()
            for name in ("page", "after", "before"):
                params.pop(name, None)
            params["format"] = "xlsx"
            ctx["export_url"] = f"{self.request.path}?{params.urlencode()}"
        return ctx

    def get_table(self, rows):
        return self.table_class(rows, params=self.request.GET, ordering=self.current_ordering(), target=self.target,
                                user=self.request.user)

    def filter_summary(self) -> list[str]:
        """The filters in force, as "label: value" lines (the export's watermark)."""
        form = self.filterset.form
        data = form.cleaned_data if form.is_valid() else {}
        lines = []
        for name, value in data.items():
            if value in (None, "", [], ()):
                continue
            field = form.fields[name]
            shown = dict(getattr(field, "choices", ()) or ()).get(value, value)
            if hasattr(value, "pk"):
                shown = dict(field.choices).get(value.pk, value)
            lines.append(f"{field.label}: {shown}")
        return lines

    def export(self, rows) -> HttpResponse:
        return xlsx_response(self.request, table=self.get_table([]), rows=rows[: self.export_max_rows],
                             title=str(self.title) or self.export_name, name=self.export_name,
                             filters=self.filter_summary())


def xlsx_response(request, *, table, rows, title: str, name: str, filters: list[str]) -> HttpResponse:
    """``rows`` (a queryset, read with ``iterator()``) as an xlsx of ``table``'s exported columns, through the shared
    writer: watermarked with the user, the time and ``filters``; logged in the access log."""
    from apps.core.choices import AccessAction
    from apps.core.exports.xlsx import Watermark, write_xlsx
    from apps.core.services import access_log_record

    now = timezone.now()
    buffer = BytesIO()
    count = write_xlsx(buffer, sheet_title=title[:31], columns=table.export_columns(),
                       rows=table.export_rows(rows.iterator(chunk_size=2000) if hasattr(rows, "iterator") else rows),
                       watermark=Watermark(request.user, now, filters))
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx"'
    access_log_record(user=request.user, action=AccessAction.EXPORT, request=request, object_repr=f"{name}:xlsx",
                      detail={"rows": count, "filters": request.GET.dict()})
    return response
