from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = _("Veteran registry")

    def ready(self) -> None:
        from apps.core import navigation
        from apps.core.navigation import NavItem

        from . import hooks, jobs

        hooks.register_outbox()
        jobs.register_jobs()  # until core's discovery calls each app's register_jobs()

        navigation.register(NavItem("veterans", _("Veterans"), "registry:veteran_list", "person-vcard",
                                    "registry.view_veteran", order=10))

