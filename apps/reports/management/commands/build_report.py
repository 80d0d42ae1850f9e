"""``python manage.py build_report FORM_CODE --period 2026-Q4 --unit CODE --out FILE.xlsx``

Fills a report form for one unit and period, as the system (no user scope), and writes the workbook. It does
not create a report in the portal (nothing to review or lock): it is for scripting and checking. Errors are
printed in Chinese and the exit code is not 0."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.models import OrgUnit
from apps.reports import services, workbooks
from apps.reports.models import ReportForm


class Command(BaseCommand):
    help = "Fill a report form for a unit and a period and write the workbook (as the system)."

    def add_arguments(self, parser):
        parser.add_argument("form", help="the form's code (see the report forms page)")
        parser.add_argument("--period", required=True, help="2026-Q4, 2026-11 or 2026")
        parser.add_argument("--unit", required=True, help="the unit's 12-digit division code")
        parser.add_argument("--out", required=True, help="the xlsx file to write")

    def handle(self, *args, **options):
        translation.activate("zh-hans")
        form = ReportForm.objects.filter(code=options["form"]).first()
        if form is None:
            raise CommandError(_("There is no report form with the code “%(code)s”.") % {"code": options["form"]})
        unit = OrgUnit.objects.filter(code=options["unit"].strip()).first()
        if unit is None:
            raise CommandError(_("There is no unit with the code %(code)s.") % {"code": options["unit"]})
        try:
            period = services.check_period(form, options["period"])
            services.check_unit(form, unit)
            filled = workbooks.fill(form, unit, period)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        out = Path(options["out"])
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(filled.content)
        except OSError as exc:
            raise CommandError(_("Cannot write %(path)s: %(error)s") % {"path": out, "error": exc.strerror}) from exc
        figures_cells = sum(1 for v in filled.values.values() if not v["ref"].startswith("@"))
        self.stdout.write(_("Wrote %(path)s: %(form)s, %(unit)s, %(period)s, %(cells)d cells from figures.")
                          % {"path": out.resolve(), "form": form.name, "unit": unit.name, "period": period.key,
                             "cells": figures_cells})
