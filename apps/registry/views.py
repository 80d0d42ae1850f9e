from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from apps.core import concurrency
from apps.core.choices import AccessAction
from apps.core.forms import apply_errors
from apps.core.lists import is_partial, render_partial, vary_on_htmx
from apps.core.lists.paging import COUNT_CAP, keyset_page
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record

from . import filters, hooks, reference, selectors, services
from .filters import SEARCH_COUNT_CAP
from .forms import (
    AttachmentForm,
    CardCreateForm,
    CardEventForm,
    CareEntitlementForm,
    CloseForm,
    FamilyMemberForm,
    TransferForm,
    VeteranCreateForm,
    VeteranForm,
    form_sections,
)
from .models import Attachment, CareEntitlement, FamilyMember, PreferentialCard, Veteran
from .tables import AccessLogTable, VeteranTable


def _veteran_or_404(request, pk: int) -> Veteran:
    try:
        return selectors.veteran_detail(user=request.user, pk=pk, snapshot=reference.snapshot(request))
    except Veteran.DoesNotExist as exc:
        raise Http404 from exc


class VeteranListView(RoleRequiredMixin, TemplateView):
    """The register: one search box, filters, sortable columns, keyset paging, htmx updates."""

    permission_required = "registry.view_veteran"
    template_name = "registry/veteran_list.html"
    page_size = 50

    def get_template_names(self):
        return ["registry/partials/veteran_table.html" if is_partial(self.request) else self.template_name]

    def get(self, request, *args, **kwargs):
        number = filters.id_search_number(request.GET.get("q", ""))
        if number is not None:  # typed into the address bar, or sent without the page's script: out of the URL
            return _id_search_redirect(request, request.GET, number)
        return vary_on_htmx(super().get(request, *args, **kwargs))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        id_search = list_id_search(self.request)
        filterset = selectors.veteran_filterset(user=self.request.user, params=self.request.GET,
                                                snapshot=reference.snapshot(self.request), id_search=id_search)
        ctx["id_search"] = id_search
        queryset = filterset.qs.only(*selectors.LIST_COLUMNS_ONLY)
        ctx["filter"] = filterset
        if not is_partial(self.request):  # the table alone has no form
            ctx["filter_fields"] = filter_fields(filterset.form)
        searching = bool(self.request.GET.get("q", "").strip())
        # Counted on the unit column, not the id: the search and list indexes carry it (INCLUDE), so the count reads
        # the index alone instead of visiting up to 10,001 rows of the table.
        ctx["page"] = keyset_page(queryset, self.request.GET, size=self.page_size,
                                  count_cap=SEARCH_COUNT_CAP if searching else COUNT_CAP,
                                  counted=filterset.match_count, count_field="org_unit_id")
        selectors.attach_names(ctx["page"].rows, filterset.snapshot)
        ctx["ordering"] = self.request.GET.get("ordering", "-id")
        ctx["table"] = VeteranTable(ctx["page"].rows, params=self.request.GET, ordering=ctx["ordering"],
                                    target="#veteran-table")
        ctx["query"] = self.request.GET
        return ctx


def list_id_search(request) -> filters.IdSearch | None:
    """The search by full ID number the list's ``idt`` names (None without one; a name search in ``q`` wins)."""
    token = request.GET.get("idt", "")
    if not token or request.GET.get("q", "").strip():
        return None
    return filters.id_search_lookup(request.session, token)


def _list_redirect(params, *, drop: tuple[str, ...] = (), **extra: str):
    """To the list with the filters of ``params`` (paging and ``drop`` left out) and ``extra``; 303: the browser, and
    htmx's request, follow with a GET."""
    query = QueryDict(mutable=True)
    for key, values in params.lists():
        if key in filters.VeteranFilterSet.base_filters and key not in ("after", "before", *drop):
            query.setlist(key, [v for v in values if v])
    query.update(extra)
    response = redirect(f"{reverse('registry:veteran_list')}?{query.urlencode()}")
    response.status_code = 303
    return response


def _id_search_redirect(request, params, number: str):
    """Log the search, keep it in the session and open the list with its token instead of the number."""
    token = filters.id_search_store(request.session, number)
    services.veteran_id_search_log(actor=request.user, number=number, request=request)
    return _list_redirect(params, drop=("q",), idt=token)


class VeteranSearchView(RoleRequiredMixin, View):
    """The list's search box posts here when it holds a full ID number (``static/js/portal.js``), so that the number
    is never in a URL; anything else goes back to the list as an ordinary GET search."""

    permission_required = "registry.view_veteran"

    def post(self, request):
        number = filters.id_search_number(request.POST.get("q", ""))
        if number is not None:
            return _id_search_redirect(request, request.POST, number)
        return _list_redirect(request.POST)


def filter_fields(form) -> list[dict]:
    """The list's drop-downs with their options made here, the current one selected (a template loop over a
    hundred units and codes, each compared and escaped, cost more than the page's queries); escaped by
    ``format_html_join``."""
    fields = []
    for field in form:
        if field.name in ("q", "ordering"):
            continue
        current = field.value()
        current = None if current is None else str(current)
        selected = mark_safe(" selected")  # noqa: S308 - a constant
        options = format_html_join("", '<option value="{}"{}>{}</option>',
                                   ((value, selected if current is not None and str(value) == current else "", label)
                                    for value, label in field.field.choices))
        fields.append({"name": field.html_name, "id": field.id_for_label, "label": field.label, "options": options})
    return fields


TABS = [("basic", gettext_lazy("Basic")), ("service", gettext_lazy("Service")), ("care", gettext_lazy("Priority care")),
        ("family", gettext_lazy("Family")), ("card", gettext_lazy("Preferential card")), ("files", gettext_lazy("Documents")),
        ("history", gettext_lazy("History")),
        ("access", gettext_lazy("Viewed or exported by"))]


def service_years(veteran: Veteran) -> str:
    """军龄: years and months from enlistment to discharge (or to today while unknown)."""
    if not veteran.enlist_date:
        return ""
    end = veteran.discharge_date or timezone.localdate()
    months = (end.year - veteran.enlist_date.year) * 12 + end.month - veteran.enlist_date.month
    return _("%(y)d years %(m)d months") % {"y": months // 12, "m": months % 12}


class VeteranDetailView(RoleRequiredMixin, View):
    """一人一档: tabs for basic data, service, care, family, 优待证, history and who viewed the record."""

    permission_required = "registry.view_veteran"

    def get(self, request, pk: int):
        veteran = _veteran_or_404(request, pk)
        # One entry per opening of the record, not per tab: a tab loaded by htmx is logged only when this user has
        # not opened the record lately (a script that reads tabs alone is logged all the same).
        if not is_partial(request) or not selectors.veteran_opened_lately(user=request.user, veteran=veteran):
            access_log_record(user=request.user, action=AccessAction.VIEW, obj=veteran, request=request)
        tab = request.GET.get("tab", "basic")
        extra_tabs = hooks.tabs_for(request.user)
        ctx = {"veteran": veteran, "tab": tab, "tabs": [*TABS[:-2], *((t.key, t.label) for t in extra_tabs), *TABS[-2:]],
               "service_years": service_years(veteran)}
        extra = hooks.tab(tab)
        if extra is not None and extra in extra_tabs:
            ctx |= extra.context(request, veteran)
            ctx["extra_template"] = extra.template
        if tab == "care":
            ctx["care"] = veteran.care.select_related("category", "benefit")
        elif tab == "family":
            ctx["family"] = veteran.family.select_related("relation", "health", "rank")
        elif tab == "card":
            ctx["cards"] = veteran.cards.prefetch_related("lifecycle")
        elif tab == "files":
            ctx["attachments"] = veteran.attachments.select_related("uploaded_by")
        elif tab == "history":
            ctx["history"] = selectors.veteran_history(veteran=veteran)[:200]
            ctx["set_changes"] = selectors.veteran_set_changes(veteran=veteran)
            ctx["transfers"] = veteran.transfers.select_related("from_unit", "to_unit", "actor")
            ctx["activity"] = hooks.history_entries(veteran)
        elif tab == "access":
            older = request.GET.get("before", "")
            ctx["access"], ctx["access_next"] = selectors.veteran_access_log(user=request.user, veteran=veteran,
                                                                            before=older)
            ctx["show_ip"] = request.user.is_portal_admin  # where people were is for administrators only
            ctx["access_table"] = AccessLogTable(ctx["access"], exclude=() if ctx["show_ip"] else ["ip_address"])
            if older and is_partial(request):  # "show older entries": the next rows of the table
                ctx["access_older"] = True
                return vary_on_htmx(render(request, "registry/partials/veteran_access_rows.html", ctx))
        return render_partial(request, "registry/veteran_detail.html", "partials/veteran_tab.html", ctx)


class VeteranCreateView(RoleRequiredMixin, View):
    permission_required = "registry.add_veteran"

    def _render(self, request, form):
        return render(request, "registry/veteran_form.html",
                      {"form": form, "sections": form_sections(form), "title": _("New record")})

    def get(self, request):
        return self._render(request, VeteranCreateForm(user=request.user))

    def post(self, request):
        form = VeteranCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                veteran = services.veteran_register(actor=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Record created."))
                return redirect(veteran)
        return self._render(request, form)


class VeteranEditView(RoleRequiredMixin, View):
    permission_required = "registry.change_veteran"

    def _render(self, request, form, veteran):
        return render(request, "registry/veteran_form.html",
                      {"form": form, "sections": form_sections(form), "veteran": veteran,
                       "title": _("Edit %(name)s") % {"name": veteran.name}})

    def get(self, request, pk: int):
        veteran = _veteran_or_404(request, pk)
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=veteran, request=request,
                          detail={"form": "edit"})
        form = VeteranForm(instance=veteran)
        concurrency.stamp(form, veteran)
        return self._render(request, form, veteran)

    def post(self, request, pk: int):
        veteran = _veteran_or_404(request, pk)
        form = concurrency.require_version(VeteranForm(request.POST, instance=Veteran.objects.get(pk=veteran.pk)),
                                           veteran)
        if form.is_valid():
            try:
                services.veteran_update(actor=request.user, veteran=veteran, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Record saved."))
                return redirect(veteran)
        return self._render(request, form, veteran)


class VeteranTransferView(RoleRequiredMixin, View):
    permission_required = "registry.transfer_veteran"

    def _render(self, request, form, veteran):
        return render(request, "registry/veteran_action.html",
                      {"form": form, "veteran": veteran, "title": _("Transfer %(name)s") % {"name": veteran.name}})

    def get(self, request, pk: int):
        return self._render(request, TransferForm(), _veteran_or_404(request, pk))

    def post(self, request, pk: int):
        veteran = _veteran_or_404(request, pk)
        form = TransferForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.veteran_transfer(actor=request.user, veteran=veteran, to_unit=data["to_unit"], on=data["date"],
                                          reason=data["reason"], destination=data["destination"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Record transferred."))
                if Veteran.objects.visible_to(request.user).filter(pk=veteran.pk).exists():
                    return redirect(veteran)
                return redirect("registry:veteran_list")
        return self._render(request, form, veteran)


class VeteranCloseView(RoleRequiredMixin, View):
    permission_required = "registry.change_veteran"

    def _render(self, request, form, veteran):
        return render(request, "registry/veteran_action.html",
                      {"form": form, "veteran": veteran, "title": _("Close the record of %(name)s") % {"name": veteran.name}})

    def get(self, request, pk: int):
        return self._render(request, CloseForm(), _veteran_or_404(request, pk))

    def post(self, request, pk: int):
        veteran = _veteran_or_404(request, pk)
        form = CloseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.veteran_close(actor=request.user, veteran=veteran, status=data["status"], on=data["date"],
                                       reason=data["reason"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Record closed; it can be restored."))
                return redirect(veteran)
        return self._render(request, form, veteran)


@login_required
@permission_required("registry.change_veteran", raise_exception=True)
@require_POST
def veteran_restore(request, pk: int):
    veteran = _veteran_or_404(request, pk)
    try:
        services.veteran_restore(actor=request.user, veteran=veteran)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Record restored to the register."))
    return redirect(veteran)


@login_required
@permission_required("registry.reveal_id_number", raise_exception=True)
@require_POST
def veteran_reveal(request, pk: int):
    """Show the full ID number once; the reveal is written to the access log."""
    veteran = _veteran_or_404(request, pk)
    number = services.veteran_reveal_id(actor=request.user, veteran=veteran, request=request)
    return render(request, "partials/id_revealed.html", {"number": number})


class RecordPartView(RoleRequiredMixin, View):
    """Add or change one part of a record (family member, care category, card, document).

    Subclasses name the form, the optional child model (looked up in scope by ``part_pk``), the service
    that saves, and the tab to return to.
    """

    form_class = None
    part_model = None
    tab = "basic"
    title = ""
    multipart = False

    def part(self, veteran, part_pk):
        if part_pk is None or self.part_model is None:
            return None
        return get_object_or_404(self.part_model.objects.visible_to(self.request.user), pk=part_pk, veteran=veteran)

    def make_form(self, data=None, files=None, instance=None):
        if issubclass(self.form_class, forms.ModelForm):
            return self.form_class(data, files, instance=instance)
        return self.form_class(data, files)

    def save(self, veteran, part, data: dict) -> None:
        raise NotImplementedError

    def _render(self, request, form, veteran):
        return render(request, "registry/veteran_action.html", {
            "form": form, "veteran": veteran, "multipart": self.multipart,
            "title": f"{self.title} · {veteran.name}"})

    versioned = False  # the form edits ``part`` and carries its version (apps.core.concurrency)

    def get(self, request, pk: int, part_pk: int | None = None):
        veteran = _veteran_or_404(request, pk)
        part = self.part(veteran, part_pk)
        form = self.make_form(instance=part)
        if self.versioned:
            concurrency.stamp(form, part)
        return self._render(request, form, veteran)

    def post(self, request, pk: int, part_pk: int | None = None):
        veteran = _veteran_or_404(request, pk)
        part = self.part(veteran, part_pk)
        form = self.make_form(request.POST, request.FILES, instance=part)
        if self.versioned:
            concurrency.require_version(form, part)
        if form.is_valid():
            try:
                self.save(veteran, part, dict(form.cleaned_data))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(f"{veteran.get_absolute_url()}?tab={self.tab}")
        return self._render(request, form, veteran)


class FamilyMemberView(RecordPartView):
    permission_required = "registry.add_familymember"
    form_class, part_model, tab, title = FamilyMemberForm, FamilyMember, "family", gettext_lazy("Family member")
    versioned = True

    def save(self, veteran, part, data):
        services.family_member_save(actor=self.request.user, veteran=veteran, member=part, **data)


class CareEntitlementView(RecordPartView):
    permission_required = "registry.add_careentitlement"
    form_class, part_model, tab, title = CareEntitlementForm, CareEntitlement, "care", gettext_lazy("Priority-care category")
    versioned = True

    def save(self, veteran, part, data):
        services.care_entitlement_save(actor=self.request.user, veteran=veteran, entitlement=part, **data)


class CardCreateView(RecordPartView):
    permission_required = "registry.add_preferentialcard"
    form_class, tab, title = CardCreateForm, "card", gettext_lazy("Open a preferential card file")

    def save(self, veteran, part, data):
        services.card_create(actor=self.request.user, veteran=veteran, card_type=data["card_type"])


class CardEventView(RecordPartView):
    permission_required = "registry.change_preferentialcard"
    form_class, part_model, tab, title = CardEventForm, PreferentialCard, "card", gettext_lazy("Preferential card event")

    def get(self, request, pk: int, part_pk: int | None = None):
        self.part(_veteran_or_404(request, pk), part_pk)  # 404 for a card out of scope
        return super().get(request, pk, part_pk)

    def save(self, veteran, part, data):
        services.card_event_record(actor=self.request.user, card=part, kind=data["kind"], on=data["date"],
                                   note=data["note"], number=data["number"])


class AttachmentUploadView(RecordPartView):
    permission_required = "registry.add_attachment"
    form_class, tab, title, multipart = AttachmentForm, "files", gettext_lazy("Add a document"), True

    def save(self, veteran, part, data):
        services.attachment_add(actor=self.request.user, veteran=veteran, upload=data["file"], kind=data["kind"])


@login_required
@permission_required("registry.view_attachment", raise_exception=True)
def attachment_download(request, pk: int, part_pk: int):
    """A scan of a document: scoped like its record and written to the access log."""
    veteran = _veteran_or_404(request, pk)
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=part_pk, veteran=veteran)
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=veteran, request=request,
                      detail={"attachment": attachment.pk, "file": attachment.original_name})
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)
