"""机关驻街's plug-ins, registered by apps.core.discovery: its menu entry."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Called once by apps.core.discovery."""
    from apps.core import navigation
    from apps.core.navigation import NavItem

    navigation.register(NavItem("liaison", _("Bureau-to-street liaison"), "liaison:pairing_list",
                                "people-fill", "liaison.view_liaisontask", order=60))
