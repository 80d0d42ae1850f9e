"""Second-factor changes are written to the access log; API tokens move to django-rest-knox (digests only).

DRF's authtoken table kept every key in clear text: it is dropped, so those keys stop working and users
issue a new token (My account, or POST /api/v1/auth/token/)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_job'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslog',
            name='action',
            field=models.CharField(choices=[('view', 'Viewed sensitive record'), ('reveal', 'Revealed ID number'), ('export', 'Exported'), ('download', 'Downloaded file'), ('print', 'Printed'), ('second_factor', 'Changed two-step verification')], max_length=16, verbose_name='action'),
        ),
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
