from __future__ import annotations

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from . import concurrency, health, selectors, services
from .auth import devices_for_second_step
from .choices import AccessAction
from .exports.csv import csv_response
from .filters import UserFilterSet
from .forms import (
    AuditFilterForm,
    OrgUnitCreateForm,
    OrgUnitEditForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from .lists import is_partial, render_partial, vary_on_htmx
from .lists.paging import offset_page
from .lists.views import ScopedListView as ListPageView
from .lists.views import xlsx_response
from .models import Notification, OrgUnit, User
from .scoping import RoleRequiredMixin, ScopedListView, ScopedMixin
from .tables import AUDIT_TABLES, UserTable
from .views_kit import ServiceFormView


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["summary"] = selectors.home_summary(user=user)
        ctx["roles"] = user.roles
        return ctx


# --- org units --------------------------------------------------------------------------------


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


# --- users ------------------------------------------------------------------------------------


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


# --- audit ------------------------------------------------------------------------------------


class AuditView(RoleRequiredMixin, View):
    """Four tabs (data changes, sensitive access, logins, failed logins) on the list kit's tables and pager;
    CSV or xlsx of the filtered tab."""

    permission_required = "core.view_audit"

    def get(self, request):
        form = AuditFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        tab = filters.get("tab") or "history"
        entries = selectors.audit_entries(user=request.user, tab=tab, filters=filters)
        table_class = AUDIT_TABLES[tab]
        if request.GET.get("format") == "csv":
            return self._csv(request, tab, entries)
        if request.GET.get("format") == "xlsx":
            summary = [f"{form.fields[k].label}: {v}" for k, v in filters.items() if v not in (None, "") and k != "tab"]
            return xlsx_response(request, table=table_class(), rows=entries, title=str(dict(AuditFilterForm.TABS)[tab]),
                                 name=f"audit-{tab}", filters=[str(dict(AuditFilterForm.TABS)[tab]), *summary])
        page = offset_page(entries, request.GET)
        table = table_class(list(page.object_list), params=request.GET, target="#audit-table")
        return render_partial(request, "core/audit.html", "core/partials/audit_table.html", {
            "form": form, "tab": tab, "tabs": AuditFilterForm.TABS, "page_obj": page, "table": table,
            "target": "#audit-table", "query": request.GET.copy()})

    def _csv(self, request, tab, entries):
        services.access_log_record(user=request.user, action=AccessAction.EXPORT, request=request,
                                   object_repr=f"audit:{tab}", detail={"filters": request.GET.dict()})

        # formula-like cells (failed-login names, User-Agents, veteran names) stay text: apps.core.exports.csv
        if tab == "access":
            headers = ["time", "user", "action", "object", "ip"]
            rows = ((e.created_at, e.user, e.action, e.object_repr, e.ip_address) for e in entries.iterator())
        elif tab in ("logins", "failures"):
            headers = ["time", "username", "ip", "user_agent"]
            rows = ((e.attempt_time, e.username, e.ip_address, e.user_agent) for e in entries.iterator())
        else:
            headers = ["time", "user", "record", "id", "event", "changes"]
            rows = ((e.pgh_created_at, e.user_id, e.pgh_obj_model, e.pgh_obj_id, e.pgh_label, e.pgh_diff)
                    for e in entries.iterator())
        return csv_response(f"audit-{tab}.csv", headers, rows)


# --- notifications ----------------------------------------------------------------------------


class NotificationListView(ScopedListView):
    model = Notification
    template_name = "core/notification_list.html"
    partial_template_name = "core/partials/notification_list.html"

    def get_queryset(self):
        qs = super().get_queryset()
        if self.request.GET.get("unread"):
            qs = qs.filter(read_at__isnull=True)
        return qs


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification_ids=[notification.pk])
    notification.refresh_from_db()
    if is_partial(request):
        unread = Notification.objects.visible_to(request.user).filter(read_at__isnull=True).count()
        return vary_on_htmx(render(request, "core/partials/notification_item.html",
                                   {"n": notification, "unread_count": unread, "oob_badge": True}))
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()}):
        return redirect(notification.link)
    return redirect("core:notification_list")


@login_required
@require_POST
def notification_read_all(request):
    count = services.notification_mark_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect("core:notification_list")


# --- own account: profile, second factor, API token ----------------------------------------


class ProfileView(LoginRequiredMixin, TemplateView):
    template_name = "core/profile.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["has_totp"] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        ctx["token"] = AuthToken.objects.filter(user=user).order_by("-created").first()
        return ctx


@login_required
@require_POST
def api_token_create(request):
    """Issue a fresh API token (replacing the old one); shown once on the profile page, stored as a digest."""
    instance, key = services.api_token_issue(user=request.user)
    messages.success(request, _("New API token: %(key)s — copy it now, it will not be shown again. It expires on %(expiry)s.")
                     % {"key": key, "expiry": timezone.localtime(instance.expiry).strftime("%Y-%m-%d %H:%M")})
    return redirect("core:profile")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password. A wrong old password counts as a failed log-in for the lockout
    (django-axes: per user name and per address, AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME); once locked,
    the session ends and the lockout page is shown, as at log-in. A change revokes the user's API tokens."""

    success_url = reverse_lazy("core:profile")

    def _credentials(self) -> dict:
        return {settings.AXES_USERNAME_FORM_FIELD: self.request.user.get_username()}

    def _locked_out(self):
        credentials = self._credentials()
        logout(self.request)
        return get_lockout_response(self.request, None, credentials)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and AxesProxyHandler.is_locked(request, self._credentials()):
            return self._locked_out()
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password", "password_incorrect"):
            user_login_failed.send(sender=type(self), credentials=self._credentials(), request=self.request)
            if getattr(self.request, "axes_locked_out", False):
                return self._locked_out()
        return super().form_invalid(form)

    def form_valid(self, form):
        user = self.request.user
        services.user_set_password(actor=user, user=user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, user)
        axes_reset(username=user.get_username())  # the old password was right: as a successful log-in
        messages.success(self.request, _("The password was changed."))
        return redirect(self.get_success_url())


SETUP_DEVICE_KEY = "otp_setup_device"  # the unconfirmed device this session is enrolling


class OtpSetupView(LoginRequiredMixin, View):
    """Enrol a TOTP authenticator: show the QR code and key, confirm with one code.

    A user with a confirmed device may enrol another only from a verified session: a password-only session is
    sent to the second step instead (else the password alone would yield a second factor). Each session enrols
    its own device (its id is kept in the session), so a key shown in one session never confirms in another.
    """

    def _refused(self, request):
        """Password-only session of a user who already has a device: to the second step."""
        if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists() and not request.user.is_verified():
            messages.info(request, _("Two-step verification is already on: enter the code from your authenticator app."))
            return redirect(f"{reverse('core:otp_verify')}?{urlencode({'next': _safe_next(request, '')})}")
        return None

    def _device(self, request) -> TOTPDevice:
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False, pk=request.session.get(SETUP_DEVICE_KEY) or 0).first()
        if device is None:
            device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
            request.session[SETUP_DEVICE_KEY] = device.pk
        return device

    def _render(self, request, device, form):
        image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
        buffer = BytesIO()
        image.save(buffer)
        key = base64.b32encode(device.bin_key).decode()
        return render(request, "account/otp_setup.html", {
            "form": form, "qr_svg": buffer.getvalue().decode(), "secret": " ".join(key[i:i + 4] for i in range(0, len(key), 4)),
            "next": _safe_next(request, ""),
            "adding": TOTPDevice.objects.filter(user=request.user, confirmed=True).exists(),
        })

    def get(self, request):
        return self._refused(request) or self._render(request, self._device(request), TokenForm())

    def post(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        device = self._device(request)
        form = TokenForm(request.POST)
        if form.is_valid():
            verified = request.user.is_verified()
            try:
                enrolled = services.second_factor_enrol(user=request.user, device=device, token=form.cleaned_data["token"],
                                                        session_verified=verified)
            except ValidationError:
                return self._refused(request) or redirect("core:profile")
            if enrolled:
                request.session.pop(SETUP_DEVICE_KEY, None)
                if not verified:  # the very first device: enrolling it is this session's second step
                    device.refresh_from_db()
                    otp_login(request, device)
                messages.success(request, _("Two-step verification is on."))
                return redirect(_safe_next(request, "core:home"))
            form.add_error("token", _("The code is wrong or expired. Check the time on your phone and try again."))
        return self._render(request, device, form)


class OtpVerifyView(LoginRequiredMixin, View):
    """The second step: a code from a device confirmed before this session began."""

    def get(self, request):
        return render(request, "account/otp_verify.html", {"form": TokenForm(), "next": _safe_next(request, "")})

    def post(self, request):
        form = TokenForm(request.POST)
        if form.is_valid():
            for device in devices_for_second_step(request.user, request.session):
                if device.verify_token(form.cleaned_data["token"]):
                    otp_login(request, device)
                    return redirect(_safe_next(request, "core:home"))
            form.add_error("token", _("The code is wrong or expired. Check the time on your phone and try again."))
        return render(request, "account/otp_verify.html", {"form": form, "next": _safe_next(request, "")})


@login_required
@require_POST
def otp_disable(request):
    """Turn one's own second factor off: a verified session and a current code."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists() and not request.user.is_verified():
        return redirect(f"{reverse('core:otp_verify')}?{urlencode({'next': reverse('core:profile')})}")
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the 6 digits shown by your authenticator app."))
        return redirect("core:profile")
    try:
        services.second_factor_disable(user=request.user, token=form.cleaned_data["token"],
                                       session_verified=request.user.is_verified(), request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Two-step verification is off."))
    return redirect("core:profile")


# --- health -----------------------------------------------------------------------------------


def healthz(request):
    report = health.check_all()
    return JsonResponse(report, status=200 if report["database"]["ok"] else 503)


def error_404(request, exception=None):
    if request.path.startswith("/api/"):  # an API address that matches no route answers like the API: JSON
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_500(request):
    """The 500 page needs nothing: no request context, no user, no database (it is what users see when
    PostgreSQL is down, and rendering it with context processors would fail again)."""
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent with an expired or missing token gets the Chinese "form expired" page,
    with a link back to the page the form was on (only when that page is on this site)."""
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = "/"
    return render(request, "403.html", {"csrf": True, "back": back}, status=403)

