from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiaisonConfig(AppConfig):
    name = "apps.liaison"
    label = "liaison"
    verbose_name = _("Bureau-to-street liaison")

    def ready(self) -> None:
        from apps.core import navigation
        from apps.core.navigation import NavItem

        navigation.register(NavItem("liaison", _("Bureau-to-street liaison"), "liaison:pairing_list",
                                    "people-fill", "liaison.view_liaisontask", order=60))
