"""View and API mixins that route every query through ``visible_to(user)``.

A record outside the user's scope is simply not in the queryset, so ``get_object`` answers 404
exactly as for a record that does not exist. Missing role permissions answer 403.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.views.generic import ListView
from rest_framework import permissions


class ScopedMixin(LoginRequiredMixin):
    """For class-based views: the queryset is ``model.objects.visible_to(request.user)``."""

    model = None
    queryset = None

    def get_queryset(self):
        base = self.queryset.all() if self.queryset is not None else self.model.objects.all()
        return base.visible_to(self.request.user)


class RoleRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Missing permission → 403 for a logged-in user, login page for an anonymous one."""

    def handle_no_permission(self):
        self.raise_exception = self.request.user.is_authenticated
        return super().handle_no_permission()


class ScopedListView(ScopedMixin, ListView):
    """A paginated list that renders only its table partial for htmx requests."""

    paginate_by = 50
    partial_template_name: str | None = None
    paginator_class = Paginator

    def get_template_names(self) -> list[str]:
        from .lists import is_partial

        if self.partial_template_name and is_partial(self.request):
            return [self.partial_template_name]
        return super().get_template_names()

    def render_to_response(self, context, **response_kwargs):
        from .lists import vary_on_htmx

        return vary_on_htmx(super().render_to_response(context, **response_kwargs))


class ScopedViewSetMixin:
    """For DRF viewsets: ``queryset`` is narrowed by ``visible_to(request.user)`` on every request."""

    def get_queryset(self):
        return self.queryset.all().visible_to(self.request.user)


class HasModelPermission(permissions.BasePermission):
    """DRF: the user needs ``required_permission`` (view) and ``write_permission`` (writes)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        needed = getattr(view, "required_permission", None)
        if request.method not in permissions.SAFE_METHODS:
            needed = getattr(view, "write_permission", None) or needed
        return needed is None or user.has_perm(needed)
