"""The app contract: each app's roles, hooks and schedules found by name; role grants applied after migrate."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from apps.core import discovery, navigation
from apps.registry import hooks


def _grants() -> set[tuple[str, str]]:
    return {(name, f"{app}.{codename}") for name, app, codename in
            Group.permissions.through.objects.values_list("group__name", "permission__content_type__app_label",
                                                          "permission__codename")}


def _wanted() -> set[tuple[str, str]]:
    return {(role, dotted) for permissions in discovery.role_permissions().values()
            for role, perms in permissions.items() for dotted in perms}


@pytest.mark.django_db
def test_every_app_with_roles_is_found():
    assert {"core", "registry", "care", "honors"} <= set(discovery.role_permissions())


@pytest.mark.django_db
def test_a_migrated_database_gives_each_role_its_grants_and_migrating_again_changes_nothing():
    # The test database was built by migrate: the post_migrate receiver granted every app's roles.py.
    assert _wanted() <= _grants()
    before = _grants()
    call_command("migrate", verbosity=0)
    assert _grants() == before
    assert discovery.grant_roles() == 0


@pytest.mark.django_db
def test_grants_are_restored_and_never_revoked():
    leader = Group.objects.get(name="局领导")
    leader.permissions.remove(Permission.objects.get(content_type__app_label="registry", codename="view_veteran"))
    extra = Permission.objects.get(content_type__app_label="registry", codename="add_veteran")
    leader.permissions.add(extra)  # granted by hand, listed in no roles.py
    assert discovery.grant_roles() == 1
    assert leader.permissions.filter(codename="view_veteran").exists()
    assert leader.permissions.filter(pk=extra.pk).exists()  # additive: what roles.py does not list stays


def test_hooks_register_on_call_not_on_import():
    tabs = list(hooks._TABS)
    histories, moves = list(hooks._HISTORY), list(hooks._ON_MOVE)
    for app in ("care", "honors"):
        importlib.reload(importlib.import_module(f"apps.{app}.hooks"))
    assert list(hooks._TABS) == tabs
    assert len(hooks._HISTORY) == len(histories) and len(hooks._ON_MOVE) == len(moves)
    discovery.autodiscover()  # once per process: a second call registers nothing
    assert len(hooks._HISTORY) == len(histories)


def test_person_tabs_of_every_app_in_their_explicit_order():
    keys = [tab.key for tab in sorted(hooks._TABS.values(), key=lambda t: t.order)]
    assert keys == ["basic", "service", "care", "family", "card", "files", "visits", "honors", "history", "access"]
    assert len({tab.order for tab in hooks._TABS.values()}) == len(hooks._TABS)


def test_menu_entries_of_every_app_are_registered():
    assert {"home", "veterans", "care_worklist", "honors", "users", "audit"} <= set(navigation._REGISTRY)


def test_schedules_of_every_app():
    specs = discovery.schedules()
    assert {"care-reminders-nightly", "audit-purge-daily", "outbox-drain", "jobs-fail-stuck"} <= set(specs)
    assert specs["care-reminders-nightly"].task == "care.reminders_run"


def test_only_the_portals_apps_take_part():
    assert {config.label for config in discovery.app_configs()} >= {"core", "registry", "care", "honors"}
    assert all(config.name.startswith("apps.") for config in discovery.app_configs())
