from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, QueryDict
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

from apps.core import reference
from apps.core.choices import AccessAction
from apps.core.lists import is_partial, render_partial, vary_on_htmx
from apps.core.lists.paging import COUNT_CAP, keyset_page
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record
from apps.core.views.kit import ServiceFormView

from .. import filters, hooks, selectors, services
from ..filters import SEARCH_COUNT_CAP
from ..forms import (
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
from ..models import Attachment, CareEntitlement, FamilyMember, PreferentialCard, Veteran
from ..tables import VeteranTable

_veteran_or_404 = selectors.person_or_404


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
            ctx["hidden_filters"] = hidden_filters(filterset.form)
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
        if field.name in ("q", "ordering") or field.is_hidden:
            continue
        current = field.value()
        current = None if current is None else str(current)
        selected = mark_safe(" selected")  # noqa: S308 - a constant
        options = format_html_join("", '<option value="{}"{}>{}</option>',
                                   ((value, selected if current is not None and str(value) == current else "", label)
                                    for value, label in field.field.choices))
        fields.append({"name": field.html_name, "id": field.id_for_label, "label": field.label, "options": options})
    return fields


def hidden_filters(form) -> list[dict]:
    """The filters a figure's link set (on the register on a day, born or created between dates, complete or not):
    no drop-down of their own, kept as hidden inputs and named above the table so that the list says what it
    shows."""
    found = []
    for field in form:
        value = field.value()
        if field.is_hidden and value not in (None, ""):
            shown = dict(field.field.choices).get(value, value) if hasattr(field.field, "choices") else value
            found.append({"name": field.html_name, "value": value, "label": field.label, "shown": shown})
    return found


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
        key = request.GET.get("tab", "basic")
        tabs = hooks.tabs_for(request.user)  # the registry's own and other apps', in their order
        ctx = {"veteran": veteran, "tab": key, "tabs": [(t.key, t.label) for t in tabs],
               "service_years": service_years(veteran), "tab_template": ""}
        current = hooks.tab(key)
        if current is not None and current in tabs:
            ctx |= current.context(request, veteran)
            ctx["tab_template"] = current.template
        if ctx.get("access_older"):  # "show older entries" of the access tab: the next rows of the table
            return vary_on_htmx(render(request, "registry/partials/veteran_access_rows.html", ctx))
        return render_partial(request, "registry/veteran_detail.html", "registry/partials/veteran_tab.html", ctx)


class VeteranCreateView(ServiceFormView):
    permission_required = "registry.add_veteran"
    form_class = VeteranCreateForm
    template_name, form_id = "registry/veteran_form.html", "veteran-form"
    title, success_message, cancel_url = gettext_lazy("New record"), gettext_lazy("Record created."), "registry:veteran_list"

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user}

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"sections": form_sections(form)}

    def perform(self, data: dict) -> Veteran:
        return services.veteran_register(actor=self.request.user, **data)


class VeteranPageMixin:
    """A form page about one record of the user's area (``pk``): back to the record on cancel."""

    def load(self) -> None:
        self.veteran = _veteran_or_404(self.request, self.kwargs["pk"])

    def get_cancel_url(self) -> str:
        return self.veteran.get_absolute_url()

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"veteran": self.veteran}


class VeteranEditView(VeteranPageMixin, ServiceFormView):
    permission_required = "registry.change_veteran"
    form_class, versioned = VeteranForm, True
    template_name, form_id = "registry/veteran_form.html", "veteran-form"
    success_message = gettext_lazy("Record saved.")

    def edited(self) -> Veteran:
        return self.veteran

    def get_title(self) -> str:
        return _("Edit %(name)s") % {"name": self.veteran.name}

    def get(self, request, *args, **kwargs):
        self.load()
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=self.veteran, request=request,
                          detail={"form": "edit"})
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict:
        # A plain row (the record from the snapshot carries names and annotations a ModelForm need not see).
        return {"instance": self.veteran if self.request.method == "GET" else Veteran.objects.get(pk=self.veteran.pk)}

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"sections": form_sections(form)}

    def perform(self, data: dict) -> Veteran:
        services.veteran_update(actor=self.request.user, veteran=self.veteran, **data)
        return self.veteran


class VeteranTransferView(VeteranPageMixin, ServiceFormView):
    permission_required = "registry.transfer_veteran"
    form_class, template_name, form_id, card_class = TransferForm, "registry/veteran_action.html", "", "mx-auto"
    success_message = gettext_lazy("Record transferred.")

    def get_title(self) -> str:
        return _("Transfer %(name)s") % {"name": self.veteran.name}

    def perform(self, data: dict) -> Veteran:
        services.veteran_transfer(actor=self.request.user, veteran=self.veteran, to_unit=data["to_unit"],
                                  on=data["date"], reason=data["reason"], destination=data["destination"])
        return self.veteran

    def success_url(self, result: Veteran) -> str:
        if Veteran.objects.visible_to(self.request.user).filter(pk=result.pk).exists():
            return result.get_absolute_url()
        return reverse("registry:veteran_list")


class VeteranCloseView(VeteranPageMixin, ServiceFormView):
    permission_required = "registry.change_veteran"
    form_class, template_name, form_id, card_class = CloseForm, "registry/veteran_action.html", "", "mx-auto"
    success_message = gettext_lazy("Record closed; it can be restored.")

    def get_title(self) -> str:
        return _("Close the record of %(name)s") % {"name": self.veteran.name}

    def perform(self, data: dict) -> Veteran:
        services.veteran_close(actor=self.request.user, veteran=self.veteran, status=data["status"], on=data["date"],
                               reason=data["reason"])
        return self.veteran


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
    return render(request, "registry/partials/id_revealed.html", {"number": number})


class RecordPartView(VeteranPageMixin, ServiceFormView):
    """Add or change one part of a record (family member, care category, card, document).

    Subclasses name the form, the optional child model (looked up in scope by ``part_pk``), the service
    that saves (``save``), and the tab to return to.
    """

    part_model = None
    tab = "basic"
    template_name, form_id, card_class = "registry/veteran_action.html", "", "mx-auto"

    def load(self) -> None:
        super().load()
        part_pk = self.kwargs.get("part_pk")
        self.part = None
        if part_pk is not None and self.part_model is not None:
            self.part = get_object_or_404(self.part_model.objects.visible_to(self.request.user), pk=part_pk,
                                          veteran=self.veteran)

    def edited(self):
        return self.part

    def make_form(self, data=None, files=None):
        if issubclass(self.form_class, forms.ModelForm):
            return self.form_class(data, files, instance=self.part)
        return self.form_class(data, files)

    def get_title(self) -> str:
        return f"{self.title} · {self.veteran.name}"

    def save(self, veteran, part, data: dict) -> None:
        raise NotImplementedError

    def perform(self, data: dict) -> str:
        self.save(self.veteran, self.part, data)
        return f"{self.veteran.get_absolute_url()}?tab={self.tab}"


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
