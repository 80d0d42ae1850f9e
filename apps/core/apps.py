from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from . import discovery, lookups  # noqa: F401 — lookups registers __any_of
        from .auth import remember_session_start

        user_logged_in.connect(remember_session_start, dispatch_uid="core.remember_session_start")
        post_migrate.connect(discovery.post_migrate_grant, dispatch_uid="core.grant_roles")
        # Every app's models are loaded before any ready() runs: the apps' hooks, jobs and figures can be
        # registered now, whatever the order of INSTALLED_APPS.
        discovery.autodiscover()
