"""Second factor: users with a confirmed TOTP device verify it after login; administrators must enrol."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

EXEMPT_PREFIXES = ("/static/", "/media/", "/healthz", "/i18n/", "/account/login", "/account/logout", "/account/2fa/")


class AdminTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            target = self._redirect_target(user)
            if target:
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _redirect_target(user) -> str | None:
        if user.is_verified():
            return None
        if user_has_device(user, confirmed=True):
            return reverse("core:otp_verify")
        if settings.OTP_REQUIRED_FOR_ADMINS and user.is_portal_admin:
            return reverse("core:otp_setup")
        return None
