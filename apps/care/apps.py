from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "apps.care"
    label = "care"
    verbose_name = _("Care and visits")

    def ready(self) -> None:
        from apps.core import navigation
        from apps.core.navigation import NavItem

        from . import (
            hooks,  # noqa: F401  (registers the person tab, history entries and change hooks)
            schedule,  # noqa: F401
        )

        hooks.register_outbox()

        navigation.register(NavItem("care_worklist", _("Visits to make"), "care:worklist", "calendar-check",
                                    "care.view_duevisit", order=20))
        # The calendar and the campaigns are opened from the worklist's header (the menu stays on one line).
        navigation.register(NavItem("care_rules", _("Visit rules"), "care:rule_list", "sliders",
                                    "care.change_visitrule", order=23))
