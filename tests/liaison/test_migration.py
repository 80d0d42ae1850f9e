"""机关驻街 left the care app (care.0013, liaison.0001-0002): rows, history and role grants carried over.

The test migrates its database back to before the move, writes liaison rows and a grant there with the
historical care models, migrates forward and reads everything back through apps.liaison."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.liaison import services
from apps.liaison.models import LiaisonPairing, LiaisonTask

LAST_CARE_BEFORE = ("care", "0012_integrity_rule_selectors_history")


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


@pytest.fixture
def before_the_move(db):
    """The database as it was before the move; migrated forward again whatever the test does."""
    executor = _migrate([LAST_CARE_BEFORE, ("liaison", None)])
    yield executor.loader.project_state([LAST_CARE_BEFORE]).apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_rows_history_and_grants_survive_the_move(users, tree, before_the_move):
    old = before_the_move
    old_pairing, old_task = old.get_model("care", "LiaisonPairing"), old.get_model("care", "LiaisonTask")
    pairing = old_pairing.objects.create(department="优抚科", street_id=tree["street_a"].pk)
    pairing.members.add(users["bureau"].pk)
    month = date(2026, 11, 1)
    task = old_task.objects.create(pairing=pairing, month=month, item="走访重点优抚对象", due_date=date(2026, 11, 20),
                                   status="planned")
    assert old.get_model("care", "LiaisonTaskEvent").objects.filter(pgh_obj_id=task.pk).count() == 1
    permission = old.get_model("auth", "Permission").objects.get(content_type__app_label="care",
                                                                 codename="change_liaisontask")
    group = old.get_model("auth", "Group").objects.create(name="驻街联络组")
    group.permissions.add(permission)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    moved = LiaisonPairing.objects.get(pk=pairing.pk)
    assert (moved.department, moved.street_id) == ("优抚科", tree["street_a"].pk)
    assert list(moved.members.values_list("pk", flat=True)) == [users["bureau"].pk]
    item = LiaisonTask.objects.get(pk=task.pk)
    assert (item.pairing_id, item.item, item.month) == (pairing.pk, "走访重点优抚对象", month)
    # The same Permission row, now under the liaison app, still granted to the group and the roles.
    kept = Permission.objects.get(pk=permission.pk)
    assert (kept.content_type.app_label, kept.codename) == ("liaison", "change_liaisontask")
    assert list(Group.objects.get(pk=group.pk).permissions.all()) == [kept]
    assert not ContentType.objects.filter(app_label="care", model__startswith="liaison").exists()
    assert users["bureau"].has_perm("liaison.change_liaisontask")
    # History: the event written before the move is there, and the re-installed triggers record an edit.
    services.liaison_task_save(actor=None, pairing=moved, task=item, status="in_progress")
    labels = list(item.events.order_by("pgh_id").values_list("pgh_label", "status"))
    assert labels == [("insert", "planned"), ("update", "in_progress")]
