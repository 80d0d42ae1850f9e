from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HonorsConfig(AppConfig):
    name = "apps.honors"
    label = "honors"
    verbose_name = _("Honours")

    def ready(self) -> None:
        from apps.core import navigation
        from apps.core.navigation import NavItem
        from apps.registry import hooks as registry_hooks
        from apps.registry.hooks import PersonTab

        from . import hooks

        navigation.register(NavItem("honors", _("Plaques and merit notices"), "honors:plaque_list", "award",
                                    "honors.view_plaquerecord", order=40))
        registry_hooks.register_tab(PersonTab("honors", _("Honours"), "honors/person_tab.html",
                                              hooks.person_tab_context, "honors.view_plaquerecord", order=20))
        registry_hooks.register_history_source(hooks.history)
        registry_hooks.on_move(hooks.moved)
