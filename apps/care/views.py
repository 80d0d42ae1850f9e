"""Care pages: worklist, visits, life events, calendar, campaigns, rules and occasions.

Every record is looked up through ``visible_to(user)`` (out of scope = 404); every write calls a service."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core.choices import AccessAction
from apps.core.files import private_file_response
from apps.core.forms import apply_errors
from apps.core.lists import render_partial
from apps.core.lists.views import XLSX
from apps.core.models import OrgUnit
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record
from apps.core.views.kit import ServiceFormView, selector_or_404
from apps.registry.selectors import person_or_404

from . import exporting, selectors, services
from .choices import TaskStatus
from .forms import (
    LifeEventForm,
    OccasionForm,
    TaskCancelForm,
    VisitForm,
    VisitRuleForm,
    WorklistFilterForm,
    form_sections,
)
from .models import Campaign, DueVisit, Occasion, VisitPhoto, VisitRule
from .tables import WorklistTable


def _tab_labels() -> list[tuple[str, str]]:
    return [("today", _("Due today")), ("week", _("This week")), ("overdue", _("Overdue")),
            ("open", _("All open")), ("escalated", _("Escalated")), ("done", _("Done"))]


_veteran_or_404 = person_or_404


def _next_url(request, default: str) -> str:
    """Where to go after a form: the page it was opened from (same host only), else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- worklist ---------------------------------------------------------------------------------


class WorklistView(RoleRequiredMixin, View):
    """The station's list of visits to make: tabs with counts, filters, keyset paging, htmx updates."""

    permission_required = "care.view_duevisit"

    def get(self, request):
        user = request.user
        view = request.GET.get("view", "open")
        if view not in selectors.WORKLIST_VIEWS:
            view = "open"
        form = WorklistFilterForm(request.GET or None, user=user)
        filters = form.cleaned_data if form.is_valid() else {}
        today = timezone.localdate()
        kwargs = {"user": user, "on": today, "occasion": filters["occasion"].pk if filters.get("occasion") else None,
                  "unit": filters.get("unit"), "due": filters.get("due"),
                  "units": form.objects["unit"].values()}  # the user's units, read for the filter already
        counts = selectors.worklist_counts(**kwargs)
        page = selectors.worklist_page(selectors.worklist(view=view, **kwargs), view=view, params=request.GET,
                                       units=form.objects["unit"], occasions=form.objects["occasion"])
        next_path = request.get_full_path()
        can_visit, can_cancel = user.has_perm("care.add_visit"), user.has_perm("care.change_duevisit")
        table = WorklistTable(page.rows, today=today, next_path=next_path, can_visit=can_visit, can_cancel=can_cancel)
        keep = request.GET.copy()
        for name in ("view", "after", "before"):
            keep.pop(name, None)
        tabs = [(key, label, min(counts[key], selectors.COUNT_CAP), counts[key] > selectors.COUNT_CAP)
                for key, label in _tab_labels()]
        ctx = {"view": view, "keep_query": keep.urlencode(), "form": form, "filter": {"form": form},
               "hidden_params": [("view", view)], "page": page, "table": table,
               "counts": counts,
               "tabs": tabs, "today": today, "next_path": next_path,
               "can_visit": can_visit, "can_cancel": can_cancel,
               "due": filters.get("due"), "cancel_form": TaskCancelForm()}
        return render_partial(request, "care/worklist.html", "care/partials/worklist_body.html", ctx)


class TaskCancelView(RoleRequiredMixin, View):
    """不再需要: close an open task without a visit (moved away, declined…)."""

    permission_required = "care.change_duevisit"

    def post(self, request, pk: int):
        task = get_object_or_404(DueVisit.objects.visible_to(request.user).select_related("veteran"), pk=pk)
        form = TaskCancelForm(request.POST)
        form.is_valid()
        try:
            services.task_cancel(actor=request.user, task=task, reason=form.cleaned_data.get("reason", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The visit to %(name)s is marked as no longer needed.") % {
                "name": task.veteran.name})
        return redirect(_next_url(request, reverse("care:worklist")))


# --- visits -------------------------------------------------------------------------------------


class VisitCreateView(RoleRequiredMixin, View):
    """走访慰问: log a visit for a person, or for a due visit (the task is closed by the save)."""

    permission_required = "care.add_visit"

    def _target(self, request, pk: int, task_pk: int | None):
        if task_pk is None:
            return _veteran_or_404(request, pk), None
        task = get_object_or_404(DueVisit.objects.visible_to(request.user).select_related("occasion", "rule"),
                                 pk=task_pk)
        return _veteran_or_404(request, task.veteran_id), task

    def _render(self, request, form, veteran, task):
        return render(request, "care/visit_form.html", {
            "form": form, "veteran": veteran, "task": task,
            "next": _next_url(request, ""),
            "title": _("Log a visit · %(name)s") % {"name": veteran.name}})

    def _closed(self, request, task):
        messages.info(request, _("This task is no longer open."))
        return redirect(_next_url(request, reverse("care:worklist")))

    def get(self, request, pk: int | None = None, task_pk: int | None = None):
        veteran, task = self._target(request, pk, task_pk)
        if task is not None and task.status != TaskStatus.OPEN:
            return self._closed(request, task)
        form = VisitForm(user=request.user, veteran=veteran,
                         initial={"occasion": task.occasion_id} if task is not None else None)
        return self._render(request, form, veteran, task)

    def post(self, request, pk: int | None = None, task_pk: int | None = None):
        veteran, task = self._target(request, pk, task_pk)
        if task is not None and task.status != TaskStatus.OPEN:
            return self._closed(request, task)
        form = VisitForm(request.POST, request.FILES, user=request.user, veteran=veteran)
        if form.is_valid():
            data = dict(form.cleaned_data)
            photos = data.pop("photos") or []
            try:
                visit = services.visit_log(actor=request.user, veteran=veteran, task=task, photos=photos, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Visit to %(name)s logged.") % {"name": veteran.name}
                                 + (" " + _("The task is closed.") if task is not None else ""))
                if task is not None:
                    return redirect(_next_url(request, reverse("care:worklist")))
                return redirect(_next_url(request, f"{visit.veteran.get_absolute_url()}?tab=visits"))
        return self._render(request, form, veteran, task)


class VisitDetailView(RoleRequiredMixin, View):
    permission_required = "care.view_visit"

    def get(self, request, pk: int):
        visit = selector_or_404(selectors.visit_detail, user=request.user, pk=pk)
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=visit.veteran, request=request,
                          detail={"visit": visit.pk})
        return render(request, "care/visit_detail.html", {"visit": visit})


class VisitPhotoView(RoleRequiredMixin, View):
    """A visit photo, served through its scoped visit (never a public media URL)."""

    permission_required = "care.view_visit"

    def get(self, request, pk: int, photo_pk: int):
        photo = get_object_or_404(VisitPhoto.objects.visible_to(request.user).select_related("visit__veteran"),
                                  pk=photo_pk, visit_id=pk)
        response = private_file_response(photo.file)
        access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=photo.visit.veteran, request=request,
                          detail={"visit": pk, "photo": photo.pk})
        return response


# --- life events --------------------------------------------------------------------------------


class LifeEventCreateView(ServiceFormView):
    """六必访: record what happened to a person; the must-visit rules give the station a task."""

    permission_required = "care.add_lifeevent"
    form_class, template_name, form_id = LifeEventForm, "care/event_form.html", "event-form"
    success_message = gettext_lazy("Event recorded. The visit it calls for is on the worklist.")

    def load(self) -> None:
        self.veteran = _veteran_or_404(self.request, self.kwargs["pk"])

    def get_title(self) -> str:
        return _("Record a life event · %(name)s") % {"name": self.veteran.name}

    def get_cancel_url(self) -> str:
        return f"{self.veteran.get_absolute_url()}?tab=visits"

    def get_context_data(self, form) -> dict:
        return super().get_context_data(form) | {"veteran": self.veteran}

    def perform(self, data: dict) -> str:
        services.life_event_record(actor=self.request.user, veteran=self.veteran, **data)
        return self.get_cancel_url()


# --- calendar -----------------------------------------------------------------------------------


def _month(value: str, today: date) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return today.replace(day=1)


class CalendarView(RoleRequiredMixin, View):
    """A month of open due visits per day; a day links to the worklist of that due date."""

    permission_required = "care.view_duevisit"

    def get(self, request):
        today = timezone.localdate()
        first = _month(request.GET.get("month", ""), today)
        last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
        counts = selectors.calendar_counts(user=request.user, first=first, last=last)
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
            weeks.append([{"date": day, "in_month": day.month == first.month, "count": counts.get(day, 0),
                           "is_today": day == today, "is_past": day < today} for day in week])
        previous = (first - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
        return render(request, "care/calendar.html", {
            "first": first, "weeks": weeks, "total": sum(counts.values()),
            "previous": previous.strftime("%Y-%m"), "following": following.strftime("%Y-%m"),
            "this_month": today.strftime("%Y-%m"),
            "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]})


# --- campaigns ------------------------------------------------------------------------------------


class CampaignListView(RoleRequiredMixin, View):
    permission_required = "care.view_campaign"

    def get(self, request):
        return render(request, "care/campaign_list.html", {"rows": selectors.campaign_list(user=request.user)})


def _campaign_and_unit(request, pk: int) -> tuple[Campaign, OrgUnit | None]:
    """The campaign and the unit the page drills into (``?unit=``): 404 for a missing campaign or a unit out of
    the user's area or malformed."""
    campaign = get_object_or_404(Campaign.objects.select_related("rule__occasion"), pk=pk)
    if not request.GET.get("unit"):
        return campaign, None
    try:
        return campaign, OrgUnit.objects.visible_to(request.user).get(pk=int(request.GET["unit"]))
    except (OrgUnit.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


class CampaignDetailView(RoleRequiredMixin, View):
    """Completion of one campaign per street, drilling down to villages (``?unit=``, within scope)."""

    permission_required = "care.view_campaign"

    def get(self, request, pk: int):
        campaign, parent = _campaign_and_unit(request, pk)
        rows = selectors.campaign_progress(user=request.user, campaign=campaign, parent=parent)
        summary = selectors.completion_row({}, total=sum(r["total"] for r in rows), done=sum(r["done"] for r in rows),
                                           late=sum(r["late"] for r in rows))
        shown = parent or (None if request.user.sees_whole_district else request.user.org_unit)
        lineage = []
        if shown is not None:
            visible = set(OrgUnit.objects.visible_to(request.user).values_list("pk", flat=True))
            lineage = [u for u in shown.lineage() if u.pk in visible]
        return render(request, "care/campaign_detail.html", {
            "campaign": campaign, "rows": rows, "parent": parent, "lineage": lineage, **summary,
            "money": sum(r["money"] for r in rows), "goods": sum(r["goods"] for r in rows)})


class CampaignExportView(RoleRequiredMixin, View):
    """The campaign's progress per community/village of the area shown (``?unit=`` as on the page) as an xlsx
    workbook: figures only, no person; logged as an export."""

    permission_required = "care.view_campaign"

    def get(self, request, pk: int):
        campaign, parent = _campaign_and_unit(request, pk)
        rows = selectors.campaign_village_rows(user=request.user, campaign=campaign, parent=parent)
        shown = parent or (None if request.user.sees_whole_district else request.user.org_unit)
        content = exporting.campaign_workbook(campaign, rows, user=request.user, unit=shown)
        access_log_record(user=request.user, action=AccessAction.EXPORT, request=request, obj=campaign,
                          detail={"kind": "campaign_progress", "unit": shown.pk if shown else None, "rows": len(rows)})
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=_("campaign-%(name)s.xlsx") % {"name": campaign.name})
        return response


# --- rules and occasions ------------------------------------------------------------------------


class RuleListView(RoleRequiredMixin, View):
    permission_required = "care.view_visitrule"

    def get(self, request):
        rules = VisitRule.objects.select_related("occasion").prefetch_related(
            "event_occasions", "categories", "care_categories", "discharge_modes", "tags", "org_units")
        return render(request, "care/rule_list.html", {"rules": rules})


class RuleEditView(ServiceFormView):
    """One visit rule in the browser; ``services.rule_save`` validates it and recomputes its tasks."""

    permission_required = "care.change_visitrule"
    form_class, template_name, versioned = VisitRuleForm, "care/rule_form.html", True
    form_id, cancel_url = "rule-form", "care:rule_list"
    success_message = gettext_lazy("Rule saved. Its due visits are being recomputed.")

    def load(self) -> None:
        pk = self.kwargs.get("pk")
        self.rule = get_object_or_404(VisitRule, pk=pk) if pk is not None else VisitRule()

    def edited(self) -> VisitRule:
        return self.rule

    def make_form(self, data=None, files=None):
        return VisitRuleForm(data, instance=self.rule, user=self.request.user)

    def get_title(self) -> str:
        return _("Edit rule · %(name)s") % {"name": self.rule.name} if self.rule.pk else _("New visit rule")

    def get_context_data(self, form) -> dict:
        history, set_changes = selectors.rule_history(rule=self.rule) if self.rule.pk else ((), ())
        return super().get_context_data(form) | {
            "sections": form_sections(form), "rule": self.rule, "history": history, "set_changes": set_changes,
            "wide_fields": ["event_occasions", "categories", "care_categories", "discharge_modes", "tags"]}

    def perform(self, data: dict) -> str:
        services.rule_save(actor=self.request.user, rule=self.form.instance, m2m=self.form.m2m(),
                           version=data.get("version") or None)
        return "care:rule_list"


class RuleCreateView(RuleEditView):
    permission_required = ("care.add_visitrule", "care.change_visitrule")


class RuleToggleView(RoleRequiredMixin, View):
    """Activate or deactivate a rule (POST); the service validates and recomputes."""

    permission_required = "care.change_visitrule"

    def post(self, request, pk: int):
        rule = get_object_or_404(VisitRule, pk=pk)
        rule.is_active = not rule.is_active
        try:
            services.rule_save(actor=request.user, rule=rule)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, (_("Rule %(name)s activated.") if rule.is_active
                                       else _("Rule %(name)s deactivated.")) % {"name": rule.name})
        return redirect("care:rule_list")


class OccasionListView(RoleRequiredMixin, View):
    permission_required = "care.view_occasion"

    def get(self, request):
        return render(request, "care/occasion_list.html", {"occasions": Occasion.objects.all()})


class OccasionEditView(ServiceFormView):
    permission_required = "care.change_occasion"
    form_class, template_name, versioned = OccasionForm, "components/form_page.html", True
    success_message, cancel_url = gettext_lazy("Occasion saved."), "care:occasion_list"

    def load(self) -> None:
        pk = self.kwargs.get("pk")
        self.occasion = get_object_or_404(Occasion, pk=pk) if pk is not None else Occasion()

    def edited(self) -> Occasion:
        return self.occasion

    def make_form(self, data=None, files=None):
        return OccasionForm(data, instance=self.occasion)

    def get_title(self) -> str:
        return (_("Edit occasion · %(name)s") % {"name": self.occasion.name} if self.occasion.pk
                else _("New occasion"))

    def perform(self, data: dict) -> str:
        services.occasion_save(actor=self.request.user, occasion=self.form.instance, version=data.get("version") or None)
        return "care:occasion_list"


class OccasionCreateView(OccasionEditView):
    permission_required = ("care.add_occasion", "care.change_occasion")
