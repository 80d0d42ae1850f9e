"""The shipped report forms filled on generated data: every bound cell equals the figure (and, for the first
form, a direct ORM count), totals are sums, layout kept; the workflow, the lock, scope and the command."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from apps.core import figures
from apps.core.figures import Period
from apps.reports import services, workbooks
from apps.reports.models import Report, ReportStatus
from tests.reports.forms_support import direct_count, make_data, report_figures, shipped_forms  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def period():
    return Period.current("quarter")


@pytest.fixture
def data(tree, roles, report_figures, shipped_forms):  # noqa: F811
    return make_data(tree, day=timezone.localdate())


def sheet_of(content: bytes, form):
    return load_workbook(io.BytesIO(content))[form.sheet]


@pytest.mark.parametrize("code", ["veterans-basic", "care-visits", "honors-plaques"])
@pytest.mark.parametrize("unit_name", ["district", "street_a"])
def test_every_bound_cell_equals_its_figure(code, unit_name, tree, data, shipped_forms, period):  # noqa: F811
    form = shipped_forms[code]
    unit = tree[unit_name]
    filled = workbooks.fill(form, unit, period)
    ws = sheet_of(filled.content, form)
    plan = workbooks.check_bindings(bytes(form.template), form.sheet, form.unit_levels, form.bindings)
    children = sorted([u for u in tree.values() if u.depth == unit.depth + 1 and u.path.startswith(unit.path)],
                      key=lambda u: u.code)
    readings = figures.read(plan.figures, [period], [unit.pk, *[c.pk for c in children]])
    checked = 0
    for i, child in enumerate(children):
        row = plan.first_row + i
        assert ws[f"A{row}"].value == i + 1 and ws[f"B{row}"].value == child.name
        for column, binding in plan.columns.items():
            if binding.figure is None:
                continue
            reading = readings[(binding.figure.key, period.key, child.pk)]
            expected = workbooks._written(binding, reading, ws[f"{column}{row}"].number_format)
            assert ws[f"{column}{row}"].value == expected, f"{code} {column}{row} {binding.text}"
            assert filled.values[f"{column}{row}"] == {"ref": binding.text, "unit": child.code, "value": expected}
            checked += 1
    assert checked == len(children) * sum(1 for b in plan.columns.values() if b.figure)
    # The totals row: a sum of the column, or the report unit's own figure (rates).
    for column, total in plan.totals.items():
        cell = ws[f"{column}{plan.totals_row}"].value
        if total == workbooks.SUM:
            assert cell == pytest.approx(sum(ws[f"{column}{plan.first_row + i}"].value for i in range(len(children))))
        else:
            binding = plan.columns[column]
            assert cell == workbooks._written(binding, readings[(binding.figure.key, period.key, unit.pk)], "0.0%")
    # Rows left over are emptied and hidden; the layout (merged cells, title) is the form's.
    assert ws.row_dimensions[plan.first_row + len(children)].hidden
    assert not ws.row_dimensions[plan.first_row].hidden
    assert ws["A1"].value == form.name and ws[f"A{plan.totals_row}"].value == "合计"
    template = load_workbook(io.BytesIO(bytes(form.template)))[form.sheet]
    assert {str(r) for r in ws.merged_cells.ranges} == {str(r) for r in template.merged_cells.ranges}
    assert ws["C2"].value == unit.name and ws["A2"].value == "填报单位：" and ws.column_dimensions["B"].width == template.column_dimensions["B"].width


def test_first_form_matches_a_direct_orm_count(tree, data, shipped_forms, period):  # noqa: F811
    form = shipped_forms["veterans-basic"]
    district = tree["district"]
    ws = sheet_of(workbooks.fill(form, district, period).content, form)
    plan = workbooks.check_bindings(bytes(form.template), form.sheet, form.unit_levels, form.bindings)
    streets = [tree["street_a"], tree["street_b"]]
    day = period.as_at()
    for i, street in enumerate(streets):
        row = plan.first_row + i
        for column, binding in plan.columns.items():
            if binding.figure is None:
                continue
            if binding.figure.key == "registry.veterans":
                expected = direct_count(street, day)
            elif binding.figure.key == "registry.by_category":
                expected = direct_count(street, day, category=binding.bucket)
            else:
                expected = direct_count(street, day, care=binding.bucket)
            assert ws[f"{column}{row}"].value == expected, f"{column}{row} {binding.text}"
    assert ws[f"C{plan.totals_row}"].value == direct_count(district, day) == 13  # the moved-out person is not counted
    # Everyone has one main collection category (their other one is not counted); 11 care categories are held
    # on the day (one ended the day before is not).
    totals = {key: sum(ws[f"{c}{plan.totals_row}"].value for c, b in plan.columns.items() if b.figure and b.figure.key == key)
              for key in ("registry.by_category", "registry.by_care_category")}
    assert totals == {"registry.by_category": 13, "registry.by_care_category": 11}
    assert ws["C5"].value == 8 and ws["C6"].value == 5  # street B: 4 in its village and 1 on the street itself


def test_a_period_without_data_gives_zeros(tree, roles, report_figures, shipped_forms):  # noqa: F811
    form = shipped_forms["care-visits"]
    filled = workbooks.fill(form, tree["district"], Period.parse("2020-Q1"))
    ws = sheet_of(filled.content, form)
    assert [ws.cell(5, c).value for c in range(3, 15)] == [0] * 12
    assert ws["O5"].value is None  # coverage: nothing due, 0 of 0 is not 0 %
    assert ws["P45"].value == 0 and ws["C45"].value == 0


def test_workflow_review_by_a_second_person_then_lock(tree, users, data, shipped_forms, period):  # noqa: F811
    form, unit = shipped_forms["veterans-basic"], tree["street_a"]
    kept = services.report_generate(actor=users["street_a"], form=form, unit=unit, period=period.key)
    report = kept.report
    assert (report.status, kept.version, report.generated_by) == (ReportStatus.FILLED, 1, users["street_a"])
    assert kept.values["C5"]["ref"] == "registry.veterans" and kept.sha256 == hashlib.sha256(kept.file.read()).hexdigest()
    with pytest.raises(ValidationError, match="第二人"):
        services.report_review(actor=users["street_a"], report=report, approve=True)
    with pytest.raises(ValidationError, match="只有已审核的报表才能锁定"):
        services.report_lock(actor=users["bureau"], report=report)
    with pytest.raises(ValidationError, match="请说明需要更正的内容"):
        services.report_review(actor=users["bureau"], report=report, approve=False)
    services.report_review(actor=users["bureau"], report=report, approve=False, note="请核对甲二村")
    assert Report.objects.get(pk=report.pk).status == ReportStatus.RETURNED
    second = services.report_generate(actor=users["street_a"], form=form, unit=unit, period=period.key)
    assert second.version == 2 and second.report.pk == report.pk and report.files.count() == 2
    report.refresh_from_db()
    assert report.status == ReportStatus.FILLED and report.review_note == ""
    services.report_review(actor=users["bureau"], report=report, approve=True)
    with pytest.raises(ValidationError, match="第二人"):
        services.report_lock(actor=users["street_a"], report=report)
    services.report_lock(actor=users["admin"], report=report)
    report.refresh_from_db()
    assert report.status == ReportStatus.LOCKED and report.locked_by == users["admin"]
    locked_bytes = Path(second.file.path).read_bytes()
    # Regeneration of a locked period is refused, by anyone; the kept file does not change.
    with pytest.raises(ValidationError, match="已锁定，不能重新生成"):
        services.report_generate(actor=users["bureau"], form=form, unit=unit, period=period.key)
    assert report.files.count() == 2
    assert Path(second.file.path).read_bytes() == locked_bytes
    assert hashlib.sha256(locked_bytes).hexdigest() == second.sha256
    with pytest.raises(ValidationError, match="只有待审核的报表才能审核"):
        services.report_review(actor=users["bureau"], report=report, approve=False, note="x")


def test_refusals_on_generation(tree, users, data, shipped_forms, period):  # noqa: F811
    form = shipped_forms["veterans-basic"]
    with pytest.raises(ValidationError, match="尚未开始"):
        services.report_generate(actor=users["bureau"], form=form, unit=tree["district"], period=period.next().key)
    with pytest.raises(ValidationError, match="本表按.*填报"):
        services.report_generate(actor=users["bureau"], form=form, unit=tree["district"], period="2026-11")
    with pytest.raises(ValidationError, match="不由社区/村填报"):
        services.report_generate(actor=users["bureau"], form=form, unit=tree["village_a1"], period=period.key)
    form.bindings = {}
    form.save()
    with pytest.raises(ValidationError, match="没有绑定任何指标"):
        services.report_generate(actor=users["bureau"], form=form, unit=tree["district"], period=period.key)
    assert not Report.objects.exists()


def test_a_block_too_short_for_the_units_is_refused(tree, users, data, shipped_forms, period):  # noqa: F811
    form = shipped_forms["honors-plaques"]
    form.bindings["grid"]["rows"] = 1
    form.save()
    with pytest.raises(ValidationError, match="预留 1 行.*甲街道下有 2 个单位"):
        services.report_generate(actor=users["street_a"], form=form, unit=tree["street_a"], period=period.key)


def test_build_report_command(tree, data, shipped_forms, period, tmp_path):  # noqa: F811
    out = tmp_path / "out" / "basic.xlsx"
    stdout = io.StringIO()
    call_command("build_report", "veterans-basic", period=period.key, unit="320111000000", out=str(out), stdout=stdout)
    assert "已写入" in stdout.getvalue() and str(out) in stdout.getvalue()
    ws = load_workbook(out)["退役军人基本情况统计表"]
    assert ws["C45"].value == 13 and ws["B5"].value == "甲街道"
    assert not Report.objects.exists()  # the command keeps no report
    for args, message in [(["nope"], "没有代码为"), (["veterans-basic"], "2099")]:
        with pytest.raises(CommandError, match=message):
            call_command("build_report", *args, period="2099-Q1" if message == "2099" else period.key,
                         unit="320111000000", out=str(out))
    with pytest.raises(CommandError, match="没有代码为 999999999999 的单位"):
        call_command("build_report", "veterans-basic", period=period.key, unit="999999999999", out=str(out))


def test_build_report_command_exit_code(tree, data, shipped_forms, tmp_path):  # noqa: F811
    """As a script sees it: a non-zero exit code and the Chinese reason on stderr."""
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["manage.py", "build_report", "veterans-basic", "--period", "2020-13",
                                 "--unit", "320111000000", "--out", str(tmp_path / "x.xlsx")])
    with pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code != 0


@pytest.mark.skipif(shutil.which("libreoffice") is None and os.environ.get("CI") != "true",
                    reason="LibreOffice is not installed here (.ci/run installs it; under CI its absence fails)")
def test_the_workbook_opens_in_libreoffice_and_its_totals_match(tree, data, shipped_forms, period, tmp_path):  # noqa: F811
    form = shipped_forms["care-visits"]
    source = tmp_path / "visits.xlsx"
    source.write_bytes(workbooks.fill(form, tree["district"], period).content)
    subprocess.run(["libreoffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    rows = list(csv.reader((tmp_path / "visits.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "走访慰问统计表"
    street_rows = [r for r in rows[4:44] if r[1]]
    totals = rows[44]
    assert [r[1] for r in street_rows] == ["甲街道", "乙街道"] and totals[0] == "合计"
    for column in [2, 3, 4, 5, 6, 16]:  # visits, per occasion, goods
        assert float(totals[column] or 0) == sum(float(r[column] or 0) for r in street_rows)
    assert float(totals[2]) == 9
    assert float(totals[15].replace(",", "")) == sum(float(r[15].replace(",", "") or 0) for r in street_rows) == 2000
