"""The home page (``core:home``, ``/``): the page an app registered for the user's role
(``apps.core.home.register_home``: station work, the leadership dashboard…), else the signed-in user's summary."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from .. import selectors
from ..home import home_response


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"

    def get(self, request, *args, **kwargs):
        response = home_response(request)
        if response is not None:
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["summary"] = selectors.home_summary(user=user)
        ctx["roles"] = user.roles
        return ctx
