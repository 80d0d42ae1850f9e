"""One's own account: profile, API token, password change, second factor (enrol, verify, disable)."""

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
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from .. import services
from ..auth import devices_for_second_step
from ..forms import TokenForm


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


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
