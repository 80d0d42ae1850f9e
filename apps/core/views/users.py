"""User accounts: the list, the roles, a user's file, create, edit and the administrator's actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_otp.plugins.otp_totp.models import TOTPDevice

from .. import concurrency, selectors, services
from ..choices import AccessAction
from ..filters import UserFilterSet
from ..forms import UserCreateForm, UserEditForm
from ..lists.views import ScopedListView as ListPageView
from ..models import User
from ..scoping import RoleRequiredMixin, ScopedMixin
from ..tables import UserTable
from .kit import ServiceFormView


class UserListView(ListPageView):
    """The accounts of the administrator's area, on the list kit (filters, table, paging, partial, xlsx)."""

    permission_required = export_permission = "core.manage_users"
    model, filterset_class, table_class = User, UserFilterSet, UserTable
    template_name = "core/user_list.html"
    target = "#user-table"
    title, export_name = gettext_lazy("Users"), "users"
    ordering = {"username": ("username",)}

    def get_rows(self, queryset):
        return queryset.select_related("org_unit").prefetch_related("groups")

    def get_table(self, rows):
        table = super().get_table(rows)
        table.locked = selectors.locked_usernames()
        return table

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["locked"] = ctx["table"].locked  # the user names locked out now
        return ctx


class RoleListView(RoleRequiredMixin, TemplateView):
    """The six roles, what each may do and how many users hold it. Fine-tuning is in the admin site."""

    permission_required = "core.manage_users"
    template_name = "core/role_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["rows"] = selectors.role_list(user=self.request.user)
        return ctx


class UserDetailView(RoleRequiredMixin, ScopedMixin, DetailView):
    """A user's file, with phone and e-mail: a sensitive read, written to the access log."""

    permission_required = "core.manage_users"
    model = User
    template_name = "core/user_detail.html"
    context_object_name = "account"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        services.access_log_record(user=self.request.user, action=AccessAction.VIEW, obj=self.object, request=self.request)
        ctx["is_locked"] = services.user_is_locked(self.object)
        ctx["has_totp"] = TOTPDevice.objects.filter(user=self.object, confirmed=True).exists()
        ctx["password_form"] = SetPasswordForm(self.object)
        return ctx


class UserCreateView(ServiceFormView):
    permission_required = "core.manage_users"
    form_class, template_name = UserCreateForm, "components/form_page.html"
    title, success_message, cancel_url = _lazy("New user"), _lazy("User created."), "core:user_list"

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user}

    def perform(self, data: dict) -> User:
        return services.user_create(
            actor=self.request.user, username=data["username"], password=data["password1"],
            real_name=data["real_name"], org_unit=data["org_unit"], roles=data["roles"],
            phone=data["phone"], email=data["email"],
        )


class UserEditView(ServiceFormView):
    permission_required = "core.manage_users"
    form_class, template_name, versioned = UserEditForm, "components/form_page.html", True
    version_fields = services.USER_VERSION_FIELDS
    success_message = _lazy("User saved.")

    def load(self) -> None:
        self.account = get_object_or_404(User.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def edited(self) -> User:
        return self.account

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user}

    def get_initial(self) -> dict:
        account = self.account
        return {"real_name": account.real_name, "phone": account.phone, "email": account.email,
                "org_unit": account.org_unit, "roles": list(account.role_names), "is_active": account.is_active}

    def get_title(self) -> str:
        return _("Edit %(name)s") % {"name": self.account}

    def get_cancel_url(self) -> str:
        return self.account.get_absolute_url()

    def form_error(self, form, exc) -> None:
        super().form_error(form, exc)
        if isinstance(exc, concurrency.StaleWrite) and "groups" in exc.changed:
            form.data.setlist("roles", sorted(exc.instance.groups.values_list("name", flat=True)))

    def perform(self, data: dict) -> User:
        services.user_update(actor=self.request.user, user=self.account, **data)
        return self.account


class UserActionView(RoleRequiredMixin, ScopedMixin, View):
    """POST-only administrator actions on a user: set password, unlock, reset second factor."""

    permission_required = "core.manage_users"
    model = User
    http_method_names = ["post"]

    def post(self, request, pk, action):
        account = get_object_or_404(self.get_queryset(), pk=pk)
        if action == "unlock":
            services.user_unlock(actor=request.user, user=account)
            messages.success(request, _("The account is unlocked."))
        elif action == "reset-2fa":
            try:
                services.user_reset_second_factor(actor=request.user, user=account, request=request)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The second factor was removed; the user enrols again at next login."))
        elif action == "password":
            form = SetPasswordForm(account, request.POST)
            if form.is_valid():
                services.user_set_password(actor=request.user, user=account, password=form.cleaned_data["new_password1"])
                messages.success(request, _("The password was changed."))
            else:
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
        else:
            raise PermissionDenied
        return redirect(account)
