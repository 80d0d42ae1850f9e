"""Pages of the bureau-to-street liaison (机关驻街): pairings, a pairing's monthly task list, the monthly
summary per street and its xlsx export. Reads go through ``selectors``, writes through
``services``; anything outside the user's area answers 404."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.decorators.http import require_POST

from apps.core.choices import AccessAction
from apps.core.lists.views import ScopedListView
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record
from apps.core.views.kit import ServiceFormView, selector_or_404

from . import exporting, selectors, services
from .choices import LiaisonStatus
from .filters import PairingFilterSet
from .forms import MonthForm, PairingForm, TaskForm, TaskReportForm
from .models import LiaisonPairing, LiaisonTask
from .tables import PairingTable, TaskTable


def _month(request) -> date:
    """The month asked for (``?month=2026-11``), else the current one."""
    form = MonthForm(request.GET)
    if form.is_valid() and form.cleaned_data["month"]:
        return form.cleaned_data["month"]
    return services.month_start(timezone.localdate())


def _month_url(name: str, month: date, **kwargs) -> str:
    return f"{reverse(name, kwargs=kwargs or None)}?month={month:%Y-%m}"


def _month_context(month: date) -> dict:
    return {"month": month, "month_value": f"{month:%Y-%m}", "prev_month": f"{services.month_shift(month, -1):%Y-%m}",
            "next_month": f"{services.month_shift(month, 1):%Y-%m}",
            "this_month": f"{services.month_start(timezone.localdate()):%Y-%m}"}


def _pairing_or_404(request, pk: int) -> LiaisonPairing:
    return selector_or_404(selectors.pairing_detail, user=request.user, pk=pk)


class PairingListView(ScopedListView):
    """Departments and the streets they are paired with, with the month's progress (the list kit: street,
    department and state filters, htmx table, xlsx export of the table's columns)."""

    permission_required = export_permission = "liaison.view_liaisontask"
    model, filterset_class, table_class = LiaisonPairing, PairingFilterSet, PairingTable
    title, export_name = gettext_lazy("Bureau-to-street liaison"), "liaison-pairings"
    template_name, partial_template_name = "liaison/pairing_list.html", "liaison/partials/pairing_table.html"
    target = "#pairing-list"
    ordering = {"street": ("street__path", "department", "id")}

    def get(self, request, *args, **kwargs):
        self.month = _month(request)
        return super().get(request, *args, **kwargs)

    def get_rows(self, queryset):
        return selectors.pairing_rows(queryset, month=self.month)

    def get_table(self, rows):
        return self.table_class(rows, params=self.request.GET, ordering=self.current_ordering(), target=self.target,
                                user=self.request.user, month=self.month)

    def filter_summary(self) -> list[str]:
        return [f"{_('Month')}: {self.month:%Y-%m}", *super().filter_summary()]

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"hidden_params": [("month", f"{self.month:%Y-%m}")],
                                                     **_month_context(self.month)}


class PairingFormView(ServiceFormView):
    """New pairing (no ``pk``) or a change to one (versioned: a stale edit is refused)."""

    form_class, versioned = PairingForm, True
    template_name, card_class = "liaison/form.html", "mx-auto"
    success_message = gettext_lazy("Pairing saved.")

    def get_permission_required(self):
        return ["liaison.change_liaisonpairing" if "pk" in self.kwargs else "liaison.add_liaisonpairing"]

    def load(self) -> None:
        self.pairing = _pairing_or_404(self.request, self.kwargs["pk"]) if "pk" in self.kwargs else None

    def edited(self) -> LiaisonPairing | None:
        return self.pairing

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user, "pairing": self.pairing}

    def get_initial(self) -> dict:
        return PairingForm.initial_for(self.pairing)

    def get_title(self) -> str:
        return _("Edit pairing %(pairing)s") % {"pairing": self.pairing} if self.pairing else _("New liaison pairing")

    def get_cancel_url(self) -> str:
        if self.pairing:
            return reverse("liaison:pairing_detail", args=[self.pairing.pk])
        return reverse("liaison:pairing_list")

    def perform(self, data: dict) -> LiaisonPairing:
        return services.pairing_save(actor=self.request.user, pairing=self.pairing, **data)

    def success_url(self, result: LiaisonPairing) -> str:
        return reverse("liaison:pairing_detail", args=[result.pk])


class PairingDetailView(RoleRequiredMixin, View):
    """A pairing's task list for one month, with the month switcher."""

    permission_required = "liaison.view_liaisontask"

    def get(self, request, pk: int):
        pairing = _pairing_or_404(request, pk)
        month = _month(request)
        may_plan = services.may_plan(request.user)
        previous_open = may_plan and pairing.is_active and selectors.has_open_items(
            user=request.user, pairing=pairing, month=services.month_shift(month, -1))
        tasks = selectors.liaison_task_list(user=request.user, pairing=pairing, month=month)
        return render(request, "liaison/pairing_detail.html", {
            "pairing": pairing, "table": TaskTable(list(tasks), user=request.user),
            "tally": selectors.pairing_month_tally(user=request.user, pairing=pairing, month=month),
            "may_plan": may_plan, "previous_open": previous_open, **_month_context(month)})


class TaskFormView(ServiceFormView):
    """Add an item (bureau) or change one: bureau staff edit all of it, a street station reports its status and
    feedback. Versioned: a stale edit is refused."""

    template_name, card_class, versioned = "liaison/form.html", "mx-auto", True
    success_message = gettext_lazy("Task saved.")

    def get_permission_required(self):
        return ["liaison.change_liaisontask" if "pk" in self.kwargs else "liaison.add_liaisontask"]

    def load(self) -> None:
        if "pk" in self.kwargs:
            self.task = selector_or_404(selectors.liaison_task_detail, user=self.request.user, pk=self.kwargs["pk"])
            self.pairing = self.task.pairing
        else:
            self.task, self.pairing = None, _pairing_or_404(self.request, self.kwargs["pairing_pk"])

    def edited(self) -> LiaisonTask | None:
        return self.task

    def reports_only(self) -> bool:
        """A street station changes an existing item's status and feedback only."""
        return self.task is not None and not services.may_plan(self.request.user)

    def make_form(self, data=None, files=None):
        task = self.task
        if self.reports_only():
            return TaskReportForm(data, initial={"status": task.status, "feedback": task.feedback})
        if task is not None:
            initial = {name: getattr(task, name) for name in services.TASK_FIELDS}
        else:
            initial = {"month": _month(self.request), "status": LiaisonStatus.PLANNED}
        return TaskForm(data, user=self.request.user, pairing=self.pairing, initial=initial)

    def get_title(self) -> str:
        if self.task is None:
            return _("New task · %(pairing)s") % {"pairing": self.pairing}
        if self.reports_only():
            return _("Report progress · %(item)s") % {"item": self.task.item}
        return _("Edit task · %(pairing)s") % {"pairing": self.pairing}

    def get_cancel_url(self) -> str:
        month = self.task.month if self.task else _month(self.request)
        return _month_url("liaison:pairing_detail", month, pk=self.pairing.pk)

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"facts": self.task if self.reports_only() else None}

    def perform(self, data: dict) -> LiaisonTask:
        return services.liaison_task_save(actor=self.request.user, pairing=self.pairing, task=self.task, **data)

    def success_url(self, result: LiaisonTask) -> str:
        return _month_url("liaison:pairing_detail", result.month, pk=self.pairing.pk)


@login_required
@permission_required("liaison.add_liaisontask", raise_exception=True)
@require_POST
def month_copy(request, pk: int):
    """Carry last month's open items into the month shown."""
    pairing = _pairing_or_404(request, pk)
    form = MonthForm(request.POST)
    month = form.cleaned_data["month"] if form.is_valid() and form.cleaned_data["month"] else _month(request)
    try:
        copied = services.liaison_month_copy(actor=request.user, pairing=pairing, to_month=month)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if copied:
            messages.success(request, ngettext("%(n)d open item of last month copied.",
                                               "%(n)d open items of last month copied.", copied) % {"n": copied})
        else:
            messages.info(request, _("Nothing to copy: last month's open items are already on this list."))
    return redirect(_month_url("liaison:pairing_detail", month, pk=pairing.pk))


class SummaryView(RoleRequiredMixin, View):
    """The monthly summary: a table per street, one row per paired department."""

    permission_required = "liaison.view_liaisontask"

    def get(self, request):
        month = _month(request)
        summary = selectors.liaison_month_summary(user=request.user, month=month)
        return render(request, "liaison/summary.html", {"summary": summary, **_month_context(month)})


@login_required
@permission_required("liaison.view_liaisontask", raise_exception=True)
def summary_export(request):
    """The monthly summary as an xlsx workbook (what the user may see), logged."""
    month = _month(request)
    summary = selectors.liaison_month_summary(user=request.user, month=month)
    content = exporting.summary_workbook(summary, user=request.user)
    access_log_record(user=request.user, action=AccessAction.EXPORT, request=request,
                      object_repr=_("Liaison summary %(month)s") % {"month": f"{month:%Y-%m}"},
                      detail={"kind": "liaison_summary", "month": f"{month:%Y-%m}"})
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("liaison-summary-%(month)s.xlsx") % {"month": f"{month:%Y-%m}"})
    return response
