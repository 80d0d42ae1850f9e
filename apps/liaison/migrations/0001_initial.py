"""机关驻街 as its own app (issue 11): the models arrive from care in state only, on their old tables
(``care.0013`` took them out of care's state). Only the history triggers are created for real: their
Postgres names follow the app label, and ``care.0013`` dropped the ones named after care."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('care', '0013_liaison_move_out'),
        ('core', '0001_initial'),
        ('pghistory', '0007_auto_20250421_0444'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='LiaisonPairing',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('department', models.CharField(max_length=100, verbose_name='bureau department')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('members', models.ManyToManyField(blank=True, db_table='care_liaisonpairing_members', related_name='liaison_pairings', to=settings.AUTH_USER_MODEL, verbose_name='liaison officers')),
                        ('street', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='liaison_pairings', to='core.orgunit', verbose_name='street/town')),
                    ],
                    options={
                        'verbose_name': 'liaison pairing',
                        'verbose_name_plural': 'liaison pairings',
                        'db_table': 'care_liaisonpairing',
                        'ordering': ['street__path', 'department'],
                    },
                ),
                migrations.CreateModel(
                    name='LiaisonTask',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField(help_text='the first day of the month', verbose_name='month')),
                        ('item', models.CharField(max_length=300, verbose_name='task')),
                        ('due_date', models.DateField(verbose_name='due')),
                        ('status', models.CharField(choices=[('planned', 'Planned'), ('in_progress', 'In progress'), ('done', 'Done')], default='planned', max_length=12, verbose_name='status')),
                        ('completed_on', models.DateField(blank=True, help_text='set when the task is marked done; cleared if it is reopened', null=True, verbose_name='completed on')),
                        ('feedback', models.TextField(blank=True, verbose_name='feedback')),
                        ('inspection_notes', models.TextField(blank=True, verbose_name='inspection notes')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                        ('pairing', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tasks', to='liaison.liaisonpairing', verbose_name='pairing')),
                    ],
                    options={
                        'verbose_name': 'liaison task',
                        'verbose_name_plural': 'liaison tasks',
                        'db_table': 'care_liaisontask',
                        'ordering': ['month', 'due_date', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='LiaisonTaskEvent',
                    fields=[
                        ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                        ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                        ('pgh_label', models.TextField(help_text='The event label.')),
                        ('id', models.BigIntegerField()),
                        ('month', models.DateField(help_text='the first day of the month', verbose_name='month')),
                        ('item', models.CharField(max_length=300, verbose_name='task')),
                        ('due_date', models.DateField(verbose_name='due')),
                        ('status', models.CharField(choices=[('planned', 'Planned'), ('in_progress', 'In progress'), ('done', 'Done')], default='planned', max_length=12, verbose_name='status')),
                        ('completed_on', models.DateField(blank=True, help_text='set when the task is marked done; cleared if it is reopened', null=True, verbose_name='completed on')),
                        ('feedback', models.TextField(blank=True, verbose_name='feedback')),
                        ('inspection_notes', models.TextField(blank=True, verbose_name='inspection notes')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('owner', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                        ('pairing', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='liaison.liaisonpairing', verbose_name='pairing')),
                        ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                        ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='liaison.liaisontask')),
                    ],
                    options={
                        'db_table': 'care_liaisontaskevent',
                        'abstract': False,
                    },
                ),
                migrations.AddConstraint(
                    model_name='liaisonpairing',
                    constraint=models.UniqueConstraint(fields=('department', 'street'), name='pairing_unique'),
                ),
                migrations.AddConstraint(
                    model_name='liaisontask',
                    constraint=models.CheckConstraint(condition=models.Q(('month__day', 1)), name='liaisontask_month_first_day'),
                ),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='liaisontask',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "care_liaisontaskevent" ("completed_on", "due_date", "feedback", "id", "inspection_notes", "item", "month", "owner_id", "pairing_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "updated_at") VALUES (NEW."completed_on", NEW."due_date", NEW."feedback", NEW."id", NEW."inspection_notes", NEW."item", NEW."month", NEW."owner_id", NEW."pairing_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."status", NEW."updated_at"); RETURN NULL;', hash='a03cc3fbd705f3bcf19cff4fa39ef47847bfab7a', operation='INSERT', pgid='pgtrigger_insert_insert_e99d6', table='care_liaisontask', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='liaisontask',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "care_liaisontaskevent" ("completed_on", "due_date", "feedback", "id", "inspection_notes", "item", "month", "owner_id", "pairing_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "updated_at") VALUES (NEW."completed_on", NEW."due_date", NEW."feedback", NEW."id", NEW."inspection_notes", NEW."item", NEW."month", NEW."owner_id", NEW."pairing_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."status", NEW."updated_at"); RETURN NULL;', hash='6045dd1fedd5d7bd3a27bed91208efd18f7daa10', operation='UPDATE', pgid='pgtrigger_update_update_2355e', table='care_liaisontask', when='AFTER')),
        ),
    ]
