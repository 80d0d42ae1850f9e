"""Care pages: worklist, visits, life events, rules, campaigns, calendar."""

from __future__ import annotations

from django.shortcuts import render
from django.views import View

from apps.core.scoping import RoleRequiredMixin

from . import selectors


class WorklistView(RoleRequiredMixin, View):
    permission_required = "care.view_duevisit"

    def get(self, request):
        view = request.GET.get("view", "open")
        tasks = selectors.worklist(user=request.user, view=view).select_related("veteran", "occasion", "org_unit")
        return render(request, "care/worklist.html", {"tasks": tasks[:50], "view": view})
