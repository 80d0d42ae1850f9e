"""The user's notifications: the list, mark one or all read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..lists import is_partial, vary_on_htmx
from ..models import Notification
from ..scoping import ScopedListView


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
