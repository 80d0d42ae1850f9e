"""Pages of the bureau-to-street liaison (机关驻街): pairings, a pairing's monthly task list, the monthly
summary per street and its xlsx export. Reads go through ``selectors_liaison``, writes through
``services_liaison``; anything outside the user's area answers 404."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.http import require_POST

from apps.core import concurrency
from apps.core.choices import AccessAction
from apps.core.forms import apply_errors
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record

from . import exporting_liaison
from . import selectors_liaison as selectors
from . import services_liaison as services
from .choices import LiaisonStatus
from .forms_liaison import MonthForm, PairingForm, TaskForm, TaskReportForm
from .models import LiaisonPairing, LiaisonTask


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
    try:
        return selectors.pairing_detail(user=request.user, pk=pk)
    except LiaisonPairing.DoesNotExist as exc:
        raise Http404 from exc


def _task_or_404(request, pk: int) -> LiaisonTask:
    try:
        return selectors.liaison_task_detail(user=request.user, pk=pk)
    except LiaisonTask.DoesNotExist as exc:
        raise Http404 from exc


class PairingListView(RoleRequiredMixin, View):
    """Departments and the streets they are paired with, with this month's progress."""

    permission_required = "care.view_liaisontask"

    def get(self, request):
        month = _month(request)
        streets = selectors.liaison_streets(user=request.user)
        street = streets.filter(pk=request.GET["street"]).first() if request.GET.get("street", "").isdigit() else None
        pairings = selectors.pairing_list(user=request.user, street=street, month=month)
        return render(request, "care/liaison_pairing_list.html", {
            "pairings": pairings, "streets": streets, "street": street, **_month_context(month)})


class PairingFormView(RoleRequiredMixin, View):
    """New pairing (no ``pk``) or a change to one."""

    def get_permission_required(self):
        return ["care.change_liaisonpairing" if "pk" in self.kwargs else "care.add_liaisonpairing"]

    def _render(self, request, form, pairing):
        title = _("Edit pairing %(pairing)s") % {"pairing": pairing} if pairing else _("New liaison pairing")
        cancel = pairing and reverse("liaison:pairing_detail", args=[pairing.pk]) or reverse("liaison:pairing_list")
        return render(request, "care/liaison_form.html", {"form": form, "title": title, "cancel_url": cancel})

    def get(self, request, pk: int | None = None):
        pairing = _pairing_or_404(request, pk) if pk else None
        form = PairingForm(user=request.user, pairing=pairing)
        concurrency.stamp(form, pairing)
        return self._render(request, form, pairing)

    def post(self, request, pk: int | None = None):
        pairing = _pairing_or_404(request, pk) if pk else None
        form = concurrency.require_version(PairingForm(request.POST, user=request.user, pairing=pairing), pairing)
        if form.is_valid():
            try:
                pairing = services.pairing_save(actor=request.user, pairing=pairing, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Pairing saved."))
                return redirect("liaison:pairing_detail", pk=pairing.pk)
        return self._render(request, form, pairing)


class PairingDetailView(RoleRequiredMixin, View):
    """A pairing's task list for one month, with the month switcher."""

    permission_required = "care.view_liaisontask"

    def get(self, request, pk: int):
        pairing = _pairing_or_404(request, pk)
        month = _month(request)
        may_plan = services.may_plan(request.user)
        previous_open = may_plan and pairing.is_active and selectors.has_open_items(
            user=request.user, pairing=pairing, month=services.month_shift(month, -1))
        return render(request, "care/liaison_pairing_detail.html", {
            "pairing": pairing, "tasks": selectors.liaison_task_list(user=request.user, pairing=pairing, month=month),
            "tally": selectors.pairing_month_tally(user=request.user, pairing=pairing, month=month),
            "may_plan": may_plan,
            "may_report": services.may_report(request.user), "previous_open": previous_open,
            **_month_context(month)})


class TaskFormView(RoleRequiredMixin, View):
    """Add an item (bureau) or change one: bureau staff edit all of it, a street station reports its status and
    feedback."""

    def get_permission_required(self):
        return ["care.change_liaisontask" if "pk" in self.kwargs else "care.add_liaisontask"]

    def _form(self, request, pairing, task, data=None):
        if task is not None and not services.may_plan(request.user):
            initial = {"status": task.status, "feedback": task.feedback}
            return TaskReportForm(data, initial=initial)
        if task is not None:
            initial = {name: getattr(task, name) for name in services.TASK_FIELDS}
        else:
            month = _month(request)
            initial = {"month": month, "status": LiaisonStatus.PLANNED}
        return TaskForm(data, user=request.user, pairing=pairing, initial=initial)

    def _render(self, request, form, pairing, task):
        if task is None:
            title = _("New task · %(pairing)s") % {"pairing": pairing}
        elif isinstance(form, TaskReportForm):
            title = _("Report progress · %(item)s") % {"item": task.item}
        else:
            title = _("Edit task · %(pairing)s") % {"pairing": pairing}
        month = task.month if task else _month(request)
        return render(request, "care/liaison_form.html", {
            "form": form, "title": title, "facts": task if isinstance(form, TaskReportForm) else None,
            "cancel_url": _month_url("liaison:pairing_detail", month, pk=pairing.pk)})

    def _objects(self, request, pk, pairing_pk):
        if pk is not None:
            task = _task_or_404(request, pk)
            return task.pairing, task
        return _pairing_or_404(request, pairing_pk), None

    def get(self, request, pk: int | None = None, pairing_pk: int | None = None):
        pairing, task = self._objects(request, pk, pairing_pk)
        form = self._form(request, pairing, task)
        concurrency.stamp(form, task)
        return self._render(request, form, pairing, task)

    def post(self, request, pk: int | None = None, pairing_pk: int | None = None):
        pairing, task = self._objects(request, pk, pairing_pk)
        form = concurrency.require_version(self._form(request, pairing, task, request.POST), task)
        if form.is_valid():
            try:
                task = services.liaison_task_save(actor=request.user, pairing=pairing, task=task, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect(_month_url("liaison:pairing_detail", task.month, pk=pairing.pk))
        return self._render(request, form, pairing, task)


@login_required
@permission_required("care.add_liaisontask", raise_exception=True)
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

    permission_required = "care.view_liaisontask"

    def get(self, request):
        month = _month(request)
        summary = selectors.liaison_month_summary(user=request.user, month=month)
        return render(request, "care/liaison_summary.html", {"summary": summary, **_month_context(month)})


@login_required
@permission_required("care.view_liaisontask", raise_exception=True)
def summary_export(request):
    """The monthly summary as an xlsx workbook (what the user may see), logged."""
    month = _month(request)
    summary = selectors.liaison_month_summary(user=request.user, month=month)
    content = exporting_liaison.summary_workbook(summary, user=request.user)
    access_log_record(user=request.user, action=AccessAction.EXPORT, request=request,
                      object_repr=_("Liaison summary %(month)s") % {"month": f"{month:%Y-%m}"},
                      detail={"kind": "liaison_summary", "month": f"{month:%Y-%m}"})
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("liaison-summary-%(month)s.xlsx") % {"month": f"{month:%Y-%m}"})
    return response
