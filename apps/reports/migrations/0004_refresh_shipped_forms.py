"""Refresh the shipped report forms loaded by 0003 from an earlier build: the 走访慰问统计表 bound visits to
life-event occasions (生病住院 …) that care.visits_done has no breakdown for (a visit's occasion is never a life
event), and the 填报单位 label of all three was cut. A form is replaced (file and bindings, from
apps/reports/shipped_forms) only while its bindings are still exactly those of an earlier build: a form an
administrator has rebound is left as it is."""

import hashlib
import json
from pathlib import Path

from django.db import migrations

SHIPPED = Path(__file__).resolve().parent.parent / "shipped_forms"
# sha256 (first 16 hex digits) of json.dumps(bindings, sort_keys=True, ensure_ascii=False) of earlier builds.
SUPERSEDED = {
    "veterans-basic": {"a8b5d65e6dc60df2"},
    "care-visits": {"7b0fa4c5a556e06f"},
    "honors-plaques": {"14cc47c898dad33f"},
}


def fingerprint(bindings) -> str:
    return hashlib.sha256(json.dumps(bindings, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def refresh(apps, schema_editor):
    ReportForm = apps.get_model("reports", "ReportForm")
    for code, earlier in SUPERSEDED.items():
        form = ReportForm.objects.filter(code=code).first()
        if form is None or fingerprint(form.bindings) not in earlier:
            continue
        meta = json.loads((SHIPPED / f"{code}.json").read_text(encoding="utf-8"))
        form.bindings = meta["bindings"]
        form.template = (SHIPPED / f"{code}.xlsx").read_bytes()
        form.sheet = meta["name"]
        form.save(update_fields=["bindings", "template", "sheet", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_ship_forms")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
