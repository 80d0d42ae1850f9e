from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import lookups  # noqa: F401 — registers __any_of
        from .auth import remember_session_start

        user_logged_in.connect(remember_session_start, dispatch_uid="core.remember_session_start")
