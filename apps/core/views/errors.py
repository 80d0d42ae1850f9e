"""Health check and the error pages (404, 403, 500, CSRF failure)."""

from __future__ import annotations

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .. import health


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
