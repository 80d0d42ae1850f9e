"""Honours pages: the two registers, recording on a person, delivering a notice, detail with the signature."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core.choices import AccessAction
from apps.core.files import private_file_response
from apps.core.forms import apply_errors
from apps.core.lists.views import ScopedListView
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record
from apps.registry import selectors as registry_selectors
from apps.registry.models import Veteran

from . import selectors, services
from .filters import MeritNoticeFilterSet, PlaqueRecordFilterSet
from .forms import MeritDeliveryForm, MeritNoticeForm, PlaqueRecordForm
from .models import MeritNotice, PlaqueRecord
from .tables import NoticeTable, PlaqueTable


def _veteran_or_404(request, pk: int) -> Veteran:
    try:
        return registry_selectors.veteran_detail(user=request.user, pk=pk)
    except Veteran.DoesNotExist as exc:
        raise Http404 from exc


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


class PersonFormView(RoleRequiredMixin, View):
    """A form on a person of the user's area; the service saves and the person's honours tab follows."""

    form_class = None
    title = ""
    multipart = False

    def save(self, veteran: Veteran, data: dict):
        raise NotImplementedError

    def _render(self, request, form, veteran):
        return render(request, "honors/form.html", {"form": form, "veteran": veteran, "multipart": self.multipart,
                                                    "title": f"{self.title} · {veteran.name}",
                                                    "cancel_url": _person_tab(veteran), "narrow": True,
                                                    "form_id": "honors-form"})

    def get(self, request, pk: int):
        return self._render(request, self.form_class(), _veteran_or_404(request, pk))

    def post(self, request, pk: int):
        veteran = _veteran_or_404(request, pk)
        form = self.form_class(request.POST, request.FILES)
        if form.is_valid():
            try:
                record = self.save(veteran, dict(form.cleaned_data))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(record)
        return self._render(request, form, veteran)


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
        try:
            record = selectors.plaque_detail(user=request.user, pk=pk)
        except PlaqueRecord.DoesNotExist as exc:
            raise Http404 from exc
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=record.veteran, request=request,
                          detail={"plaque": record.pk})
        return render(request, "honors/plaque_detail.html", {"record": record})


class NoticeDetailView(RoleRequiredMixin, View):
    permission_required = "honors.view_meritnotice"

    def get(self, request, pk: int):
        try:
            notice = selectors.notice_detail(user=request.user, pk=pk)
        except MeritNotice.DoesNotExist as exc:
            raise Http404 from exc
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=notice.veteran, request=request,
                          detail={"notice": notice.pk})
        return render(request, "honors/notice_detail.html", {"notice": notice})


class NoticeDeliverView(RoleRequiredMixin, View):
    permission_required = "honors.change_meritnotice"

    def _notice(self, request, pk: int) -> MeritNotice:
        try:
            return selectors.notice_detail(user=request.user, pk=pk)
        except MeritNotice.DoesNotExist as exc:
            raise Http404 from exc

    def _render(self, request, form, notice):
        return render(request, "honors/form.html", {
            "form": form, "veteran": notice.veteran, "notice": notice, "multipart": True,
            "title": _("Deliver the merit notice · %(member)s, %(award)s") % {
                "member": notice.member_name, "award": notice.get_award_display()},
            "cancel_url": notice.get_absolute_url(), "narrow": True, "form_id": "honors-form"})

    def get(self, request, pk: int):
        notice = self._notice(request, pk)
        if notice.is_delivered:
            messages.info(request, _("This notice has already been delivered."))
            return redirect(notice)
        return self._render(request, MeritDeliveryForm(), notice)

    def post(self, request, pk: int):
        notice = self._notice(request, pk)
        form = MeritDeliveryForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.merit_notice_deliver(actor=request.user, notice=notice, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Delivery recorded; the visit is logged."))
                return redirect(notice)
        return self._render(request, form, notice)


@login_required
@permission_required("honors.view_plaquerecord", raise_exception=True)
def plaque_photo(request, pk: int):
    """The signed register of a plaque, served only to those who may see the record (never a media URL)."""
    try:
        record = selectors.plaque_detail(user=request.user, pk=pk)
    except PlaqueRecord.DoesNotExist as exc:
        raise Http404 from exc
    response = private_file_response(record.signature)
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=record.veteran, request=request,
                      detail={"plaque": record.pk, "plaque_photo": True})
    return response


@login_required
@permission_required("honors.view_meritnotice", raise_exception=True)
def notice_photo(request, pk: int):
    try:
        notice = selectors.notice_detail(user=request.user, pk=pk)
    except MeritNotice.DoesNotExist as exc:
        raise Http404 from exc
    response = private_file_response(notice.signature)
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=notice.veteran, request=request,
                      detail={"notice": notice.pk, "notice_photo": True})
    return response
