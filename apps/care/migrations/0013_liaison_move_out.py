"""机关驻街 leaves the care app for apps/liaison (issue 11).

The models move in state only: their tables keep their names (``care_liaison*``, see
``apps.liaison.models``), so no row is copied. The history triggers are dropped here because their
Postgres names are derived from the model's app label; ``liaison.0001`` installs them again under
the new names, and ``liaison.0002`` renames the content types so that permissions and role grants stay."""

import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0012_integrity_rule_selectors_history'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='liaisontask',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='liaisontask',
            name='update_update',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='liaisontask',
                    name='pairing',
                ),
                migrations.RemoveField(
                    model_name='liaisontaskevent',
                    name='pairing',
                ),
                migrations.RemoveField(
                    model_name='liaisontask',
                    name='owner',
                ),
                migrations.RemoveField(
                    model_name='liaisontaskevent',
                    name='pgh_obj',
                ),
                migrations.RemoveField(
                    model_name='liaisontaskevent',
                    name='owner',
                ),
                migrations.RemoveField(
                    model_name='liaisontaskevent',
                    name='pgh_context',
                ),
                migrations.DeleteModel(
                    name='LiaisonPairing',
                ),
                migrations.DeleteModel(
                    name='LiaisonTask',
                ),
                migrations.DeleteModel(
                    name='LiaisonTaskEvent',
                ),
            ],
        ),
    ]
