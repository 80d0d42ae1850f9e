"""Second factor: users with a confirmed TOTP device verify it after login; administrators must enrol."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from .auth import has_confirmed_device

EXEMPT_PREFIXES = ("/static/", "/media/", "/healthz", "/favicon.ico", "/i18n/", "/account/login", "/account/logout", "/account/2fa/")


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
        if has_confirmed_device(user):
            return reverse("core:otp_verify")
        if settings.OTP_REQUIRED_FOR_ADMINS and user.is_portal_admin:
            return reverse("core:otp_setup")
        return None


class IdleTimeoutMiddleware:
    """Moves the session's idle deadline (SESSION_COOKIE_AGE) on activity, at most once a minute.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) cost every page an UPDATE and a commit
    (a WAL flush) for a deadline that moves by seconds. Here a request marks the session modified only when the
    last renewal is a minute old or more, so the idle timeout holds to within a minute.
    """

    RENEW_AFTER_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_renewed", 0) >= self.RENEW_AFTER_SECONDS:
                session["_renewed"] = now
        return response


class NoStoreMiddleware:
    """Every answer to a signed-in user (pages, files, API) carries ``Cache-Control: no-store``: station PCs
    are shared, and a browser cache or the back button must not show the next user someone's record.
    Static assets (served by WhiteNoise before this in production) stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
        return response


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Chinese unless the user chose another language in the menu (the language cookie). A browser's
    Accept-Language is not followed on pages: a station PC installed in English still shows the portal in
    Chinese. API clients, which set the header on purpose, are answered in the language they ask for."""

    def process_request(self, request):
        if request.path.startswith("/api/"):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None
