"""Honours pages: the two registers, recording on a person, delivering a notice, detail with the signature."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core.choices import AccessAction
from apps.core.files import private_file_response
from apps.core.lists.views import ScopedListView
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record
from apps.core.views.kit import ServiceFormView, selector_or_404
from apps.registry import selectors as registry_selectors
from apps.registry.models import Veteran

from . import selectors, services
from .filters import MeritNoticeFilterSet, PlaqueRecordFilterSet
from .forms import MeritDeliveryForm, MeritNoticeForm, PlaqueRecordForm
from .models import MeritNotice, PlaqueRecord
from .tables import NoticeTable, PlaqueTable

_veteran_or_404 = registry_selectors.person_or_404


def _person_tab(veteran: Veteran) -> str:
    return f"{veteran.get_absolute_url()}?tab=honors"


class RegisterListView(ScopedListView):
    """A register on the list kit: filters (unit, year, kind), a table, plain paging, htmx partial, xlsx export."""

    template_name = "honors/register_list.html"
    target = "#register-table"
    ordering = {"-date": ("-date", "-id")}
    register = ""

    def get_rows(self, queryset):
        return queryset.select_related("veteran", "org_unit")

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"register": self.register}


class PlaqueListView(RegisterListView):
    permission_required = export_permission = "honors.view_plaquerecord"
    model, filterset_class, table_class = PlaqueRecord, PlaqueRecordFilterSet, PlaqueTable
    title, register, export_name = gettext_lazy("Honour plaques (光荣牌)"), "plaque", "plaques"


class NoticeListView(RegisterListView):
    permission_required = export_permission = "honors.view_meritnotice"
    model, filterset_class, table_class = MeritNotice, MeritNoticeFilterSet, NoticeTable
    title, register, export_name = gettext_lazy("Merit notices (立功喜报)"), "notice", "notices"
    ordering = {"-date": ("-notice_date", "-id")}


class PersonFormView(ServiceFormView):
    """A form on a person of the user's area; the service saves and the person's honours tab follows."""

    template_name, form_id, card_class = "honors/form.html", "honors-form", "mx-auto form-card"

    def load(self) -> None:
        self.veteran = _veteran_or_404(self.request, self.kwargs["pk"])

    def get_title(self) -> str:
        return f"{self.title} · {self.veteran.name}"

    def get_cancel_url(self) -> str:
        return _person_tab(self.veteran)

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"veteran": self.veteran}

    def save(self, veteran: Veteran, data: dict):
        raise NotImplementedError

    def perform(self, data: dict):
        return self.save(self.veteran, data)


class PlaqueCreateView(PersonFormView):
    permission_required = "honors.add_plaquerecord"
    form_class, multipart = PlaqueRecordForm, True

    @property
    def title(self) -> str:
        return _("Record a plaque hanging or replacement")

    def save(self, veteran, data):
        return services.plaque_record(actor=self.request.user, veteran=veteran, **data)


class NoticeCreateView(PersonFormView):
    permission_required = "honors.add_meritnotice"
    form_class = MeritNoticeForm

    @property
    def title(self) -> str:
        return _("Register a merit notice")

    def save(self, veteran, data):
        return services.merit_notice_register(actor=self.request.user, veteran=veteran, **data)


class PlaqueDetailView(RoleRequiredMixin, View):
    permission_required = "honors.view_plaquerecord"

    def get(self, request, pk: int):
        record = selector_or_404(selectors.plaque_detail, user=request.user, pk=pk)
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=record.veteran, request=request,
                          detail={"plaque": record.pk})
        return render(request, "honors/plaque_detail.html", {"record": record})


class NoticeDetailView(RoleRequiredMixin, View):
    permission_required = "honors.view_meritnotice"

    def get(self, request, pk: int):
        notice = selector_or_404(selectors.notice_detail, user=request.user, pk=pk)
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=notice.veteran, request=request,
                          detail={"notice": notice.pk})
        return render(request, "honors/notice_detail.html", {"notice": notice})


class NoticeDeliverView(ServiceFormView):
    permission_required = "honors.change_meritnotice"
    form_class, multipart = MeritDeliveryForm, True
    template_name, form_id, card_class = "honors/form.html", "honors-form", "mx-auto form-card"
    success_message = gettext_lazy("Delivery recorded; the visit is logged.")

    def load(self) -> None:
        self.notice = selector_or_404(selectors.notice_detail, user=self.request.user, pk=self.kwargs["pk"])

    def get_title(self) -> str:
        return _("Deliver the merit notice · %(member)s, %(award)s") % {
            "member": self.notice.member_name, "award": self.notice.get_award_display()}

    def get_cancel_url(self) -> str:
        return self.notice.get_absolute_url()

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"veteran": self.notice.veteran, "notice": self.notice}

    def get(self, request, *args, **kwargs):
        self.load()
        if self.notice.is_delivered:
            messages.info(request, _("This notice has already been delivered."))
            return redirect(self.notice)
        return super().get(request, *args, **kwargs)

    def perform(self, data: dict) -> MeritNotice:
        services.merit_notice_deliver(actor=self.request.user, notice=self.notice, **data)
        return self.notice


@login_required
@permission_required("honors.view_plaquerecord", raise_exception=True)
def plaque_photo(request, pk: int):
    """The signed register of a plaque, served only to those who may see the record (never a media URL)."""
    record = selector_or_404(selectors.plaque_detail, user=request.user, pk=pk)
    response = private_file_response(record.signature)
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=record.veteran, request=request,
                      detail={"plaque": record.pk, "plaque_photo": True})
    return response


@login_required
@permission_required("honors.view_meritnotice", raise_exception=True)
def notice_photo(request, pk: int):
    notice = selector_or_404(selectors.notice_detail, user=request.user, pk=pk)
    response = private_file_response(notice.signature)
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=notice.veteran, request=request,
                      detail={"notice": notice.pk, "notice_photo": True})
    return response
