"""Org units: the tree, one unit, create and edit."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import DetailView, TemplateView

from .. import selectors, services
from ..forms import OrgUnitCreateForm, OrgUnitEditForm
from ..models import OrgUnit, User
from ..scoping import RoleRequiredMixin, ScopedMixin
from .kit import ServiceFormView


class OrgUnitListView(RoleRequiredMixin, TemplateView):
    permission_required = "core.view_orgunit"
    template_name = "core/orgunit_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["units"] = selectors.orgunit_tree(user=self.request.user)
        return ctx


class OrgUnitDetailView(RoleRequiredMixin, ScopedMixin, DetailView):
    permission_required = "core.view_orgunit"
    model = OrgUnit
    template_name = "core/orgunit_detail.html"
    context_object_name = "unit"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["children"] = OrgUnit.objects.get_children(self.object)
        ctx["staff"] = User.objects.visible_to(self.request.user).filter(org_unit=self.object).order_by("username")
        return ctx


class OrgUnitCreateView(ServiceFormView):
    permission_required = "core.manage_orgunits"
    form_class, template_name = OrgUnitCreateForm, "components/form_page.html"
    title, success_message, cancel_url = _lazy("New org unit"), _lazy("Org unit created."), "core:orgunit_list"

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user}

    def get_initial(self) -> dict:
        parent = OrgUnit.objects.visible_to(self.request.user).filter(pk=self.request.GET.get("parent") or 0).first()
        return {"parent": parent}

    def perform(self, data: dict) -> OrgUnit:
        return services.orgunit_create(actor=self.request.user, **data)


class OrgUnitEditView(ServiceFormView):
    permission_required = "core.manage_orgunits"
    form_class, template_name, versioned = OrgUnitEditForm, "components/form_page.html", True
    success_message = _lazy("Org unit saved.")

    def load(self) -> None:
        self.unit = get_object_or_404(OrgUnit.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def edited(self) -> OrgUnit:
        return self.unit

    def get_initial(self) -> dict:
        return {"name": self.unit.name, "is_station": self.unit.is_station, "is_active": self.unit.is_active}

    def get_title(self) -> str:
        return _("Edit %(name)s") % {"name": self.unit.name}

    def get_cancel_url(self) -> str:
        return self.unit.get_absolute_url()

    def perform(self, data: dict) -> OrgUnit:
        services.orgunit_update(actor=self.request.user, unit=self.unit, **data)
        return self.unit
