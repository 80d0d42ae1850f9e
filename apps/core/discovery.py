"""The app contract: each app's modules found by name, like ``admin.autodiscover``.

An app under ``apps/`` may have:
- ``roles.py``: ``ROLE_PERMISSIONS = {role: ["app.codename", ...]}``, granted after every ``migrate``
  (``grant_roles``, a ``post_migrate`` receiver; additive, see ``apps.core.roles``);
- ``hooks.py``: ``register()`` adds the app's menu entries, person tabs, history sources, change and move
  hooks and outbox kinds;
- ``schedules.py``: ``SCHEDULES = [PeriodicTaskSpec(...)]``, loaded by ``manage.py sync_schedules``;
- ``jobs.py``: ``register_jobs()`` registers its background job kinds;
- ``figures.py``: ``register_figures()`` registers its dashboard figures.

``autodiscover`` runs once, from ``CoreConfig.ready`` (every app's models are loaded by then). Nothing is
registered by importing a module: registration is the call, so importing a module twice (tests, the shell)
changes nothing, and the order is the app order of ``INSTALLED_APPS``.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule

if TYPE_CHECKING:
    from .schedules import PeriodicTaskSpec

PACKAGE = "apps."  # only the portal's own apps take part (a third-party app may have a hooks.py of its own)
CALLS = (("hooks", "register"), ("jobs", "register_jobs"), ("figures", "register_figures"))

_done = False


def app_configs() -> list[AppConfig]:
    return [config for config in apps.get_app_configs() if config.name.startswith(PACKAGE)]


def app_module(config: AppConfig, name: str) -> ModuleType | None:
    """``<app>.<name>`` if the app has such a module (an import error inside it is raised, not hidden)."""
    if not module_has_submodule(config.module, name):
        return None
    return import_module(f"{config.name}.{name}")


def modules(name: str) -> list[tuple[AppConfig, ModuleType]]:
    return [(config, module) for config in app_configs() if (module := app_module(config, name)) is not None]


def autodiscover() -> None:
    """Call every app's registration functions, once per process."""
    global _done
    if _done:
        return
    _done = True
    for module_name, function in CALLS:
        for _config, module in modules(module_name):
            register = getattr(module, function, None)
            if register is not None:
                register()


def role_permissions() -> dict[str, dict[str, list[str]]]:
    """Every app's ``ROLE_PERMISSIONS``, by app label."""
    return {config.label: module.ROLE_PERMISSIONS for config, module in modules("roles")}


def grant_roles(*, using: str = "default", **_kwargs) -> int:
    """Apply every app's role grants (idempotent, additive). A ``post_migrate`` receiver, and what
    tests/conftest.py calls after a flush. Returns the number of permissions newly granted."""
    from .roles import grant

    return sum(grant(permissions, using=using) for permissions in role_permissions().values())


def post_migrate_grant(sender: AppConfig, *, using: str = "default", plan=None, **_kwargs) -> None:
    """``post_migrate`` is sent once per app; the grants run with the last of ours, when every app's tables
    and permissions exist."""
    ours = [config for config in app_configs() if config.models_module is not None]
    if ours and sender is ours[-1]:
        grant_roles(using=using)


def schedules() -> dict[str, PeriodicTaskSpec]:
    """Every app's periodic tasks, by name."""
    found: dict[str, PeriodicTaskSpec] = {}
    for _config, module in modules("schedules"):
        for spec in module.SCHEDULES:
            found[spec.name] = spec
    return found
