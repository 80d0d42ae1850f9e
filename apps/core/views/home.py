"""The home page: the signed-in user's summary."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from .. import selectors


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["summary"] = selectors.home_summary(user=user)
        ctx["roles"] = user.roles
        return ctx
