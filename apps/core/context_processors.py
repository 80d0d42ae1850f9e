from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import navigation
from .models import Notification


def portal(request) -> dict:
    """Menu, unread count and the org-unit breadcrumb for the page shell (two small queries, made only when the
    page shows them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"site_title": settings.SITE_TITLE}
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = navigation.items_for(user)
    return {
        "site_title": settings.SITE_TITLE,
        "nav_items": items,
        "nav_active": navigation.active_key(items, current),
        # Lazy: evaluated when the page shows them (a full page); an htmx fragment never does.
        "unread_count": SimpleLazyObject(Notification.objects.visible_to(user).filter(read_at__isnull=True).count),
        "unit_lineage": user.org_unit.lineage if user.org_unit_id else list,
    }
