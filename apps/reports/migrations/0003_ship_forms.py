"""Load the three shipped report forms (apps/reports/shipped_forms, built by its build.py) with their bindings.
Administrators may change or replace them afterwards; a form that exists already is left as it is."""

import json
from pathlib import Path

from django.db import migrations

SHIPPED = Path(__file__).resolve().parent.parent / "shipped_forms"
CODES = ["veterans-basic", "care-visits", "honors-plaques"]


def load(apps, schema_editor):
    ReportForm = apps.get_model("reports", "ReportForm")
    for code in CODES:
        meta = json.loads((SHIPPED / f"{code}.json").read_text(encoding="utf-8"))
        ReportForm.objects.get_or_create(code=code, defaults={
            "name": meta["name"], "description": meta["description"], "period_kind": meta["period_kind"],
            "unit_levels": meta["unit_levels"], "bindings": meta["bindings"],
            "template": (SHIPPED / f"{code}.xlsx").read_bytes(), "template_name": f"{code}.xlsx",
            "sheet": meta["name"]})


def unload(apps, schema_editor):
    apps.get_model("reports", "ReportForm").objects.filter(code__in=CODES, reports__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_report_forms")]

    operations = [migrations.RunPython(load, unload)]
