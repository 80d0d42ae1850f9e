"""Binding refusals: each names its cell, in Chinese; nothing is saved unless every binding checks out."""

from __future__ import annotations

import copy
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from apps.reports import services, workbooks
from apps.reports.models import ReportForm
from tests.reports.forms_support import report_figures, shipped_forms  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def basic(shipped_forms, report_figures):  # noqa: F811
    return shipped_forms["veterans-basic"]


def refused(form, bindings, levels=None) -> list[str]:
    with pytest.raises(workbooks.FormError) as info:
        workbooks.check_bindings(bytes(form.template), form.sheet, levels or form.unit_levels, bindings)
    return info.value.messages


def with_column(form, column, spec):
    bindings = copy.deepcopy(form.bindings)
    bindings["grid"]["columns"][column] = spec
    return bindings


def test_the_shipped_bindings_check_out(shipped_forms, report_figures):  # noqa: F811
    for form in shipped_forms.values():
        plan = workbooks.check_bindings(bytes(form.template), form.sheet, form.unit_levels, form.bindings)
        assert plan.mode == "children" and plan.figures


def test_unknown_figure_and_bucket(basic):
    assert refused(basic, with_column(basic, "C", {"ref": "registry.nothing", "total": "sum"})) == [
        "单元格 C5:C44：没有名为“registry.nothing”的指标。"]
    messages = refused(basic, with_column(basic, "D", {"ref": "registry.by_category:99", "total": "sum"}))
    assert messages == [
        "单元格 D5:D44：指标“registry.by_category”（按采集类别）没有分项“99”。"]
    messages = refused(basic, with_column(basic, "C", {"ref": "registry.veterans:01"}))
    assert messages == ["单元格 C5:C44：指标“registry.veterans”（在册人数）没有分项，不能取分项“01”。"]


def test_a_figure_not_counted_at_the_rows_level(basic):
    """Street-level reports have a village per row: a figure kept per street only cannot fill them."""
    messages = refused(basic, with_column(basic, "C", {"ref": "test.street_only", "total": "sum"}))
    assert messages == ["单元格 C5:C44：指标“test.street_only”（仅到街道）不按社区/村统计。"]
    # A district-only form (rows are streets) may use it.
    workbooks.check_bindings(bytes(basic.template), basic.sheet, ["district"],
                             with_column(basic, "C", {"ref": "test.street_only", "total": "sum"}))


def test_fixed_rows_check_each_rows_unit(basic, tree):
    bindings = {"grid": {"mode": "fixed", "units": {"5": tree["street_a"].code, "6": tree["village_b1"].code,
                                                    "7": "320111009000"},
                         "columns": {"B": {"ref": "@unit"}, "C": {"ref": "test.street_only"}}}}
    assert refused(basic, bindings, ["district"]) == [
        "第 7 行：没有代码为 320111009000 的单位。",
        "单元格 C6：指标“test.street_only”（仅到街道）不按社区/村统计。"]


def test_a_cell_bound_twice_outside_the_sheet_inside_a_merge(basic):
    bindings = copy.deepcopy(basic.bindings)
    bindings["cells"].update({"C10": "registry.veterans", "ZZ3": "registry.veterans", "D2": "@period",
                              "C45": "registry.veterans"})
    assert refused(basic, bindings) == [
        "单元格 C10 被绑定了两次（C5:C44 和 单个单元格）。",
        "单元格 C45 被绑定了两次（合计行 和 单个单元格）。",
        "单元格 D2 位于合并单元格 C2:E2 内，请绑定该区域的第一个单元格。",
        "单元格 ZZ3 超出了报表的范围（报表止于 AE48）。",
    ]


def test_a_rate_is_not_summed(shipped_forms, report_figures):  # noqa: F811
    form = shipped_forms["care-visits"]
    assert refused(form, with_column(form, "O", {"ref": "care.key_coverage", "total": "sum"})) == [
        "单元格 O45：指标“care.key_coverage”（重点优抚对象走访覆盖率）是比率或时间，合计应取填报单位本级指标，不能求和。"]


def test_a_form_with_no_bound_cells(basic):
    assert refused(basic, {}) == ["该报表没有绑定任何指标的单元格。"]
    assert refused(basic, {"cells": {"C2": "@unit"}}) == ["该报表没有绑定任何指标的单元格。"]


def test_bind_service_saves_nothing_when_refused(basic, users):
    before = copy.deepcopy(basic.bindings)
    with pytest.raises(ValidationError):
        services.report_form_bind(actor=users["admin"], form=basic,
                                  bindings=with_column(basic, "C", {"ref": "registry.nothing"}))
    assert ReportForm.objects.get(pk=basic.pk).bindings == before


def test_upload_refuses_what_is_not_an_xlsx(users, report_figures):  # noqa: F811
    for content, message in [(b"", "请上传报表的 Excel 工作簿"), (b"<html></html>", "请上传 Excel 工作簿"),
                             (b"PK\x03\x04broken", "已损坏")]:
        with pytest.raises(ValidationError, match=message):
            services.report_form_save(actor=users["admin"], code="x", name="x", period_kind="quarter",
                                      unit_levels=["district"], content=content, file_name="x.xlsx")
    assert not ReportForm.objects.filter(code="x").exists()


def test_upload_and_bind_a_plain_form(users, tree, report_figures):  # noqa: F811
    workbook = Workbook()
    ws = workbook.active
    ws["A1"], ws["A2"], ws["B2"] = "在册人数表", "单位", "人数"
    for row in (3, 4, 5):
        ws[f"A{row}"] = ""
    ws["A5"] = "合计"
    buffer = io.BytesIO()
    workbook.save(buffer)
    form = services.report_form_save(actor=users["admin"], code="plain", name="在册人数表", period_kind="year",
                                     unit_levels=["district"], content=buffer.getvalue(), file_name="plain.xlsx")
    form = services.report_form_bind(actor=users["admin"], form=form, bindings={"grid": {
        "mode": "fixed", "units": {"3": tree["street_a"].code, "4": tree["street_b"].code}, "totals_row": 5,
        "columns": {"A": {"ref": "@unit"}, "B": {"ref": "registry.veterans", "total": "sum"}}}})
    filled = workbooks.fill(form, tree["district"], workbooks.Period.parse("2020"))
    assert filled.values["B5"] == {"ref": "sum(B)", "unit": tree["district"].code, "value": 0}
    assert filled.values["A3"]["value"] == "甲街道"
    # A street's report cannot hold another street's row.
    form.unit_levels = ["district", "street"]
    with pytest.raises(ValidationError, match="第 3 行：单位 320111001000 不属于本报表的填报单位甲街道"):
        workbooks.fill(form, tree["street_a"], workbooks.Period.parse("2020"))


def test_migration_refreshes_a_shipped_form_only_while_it_is_as_shipped(shipped_forms, monkeypatch):  # noqa: F811
    """0004 replaces a form built by an earlier build (recognised by its bindings) and leaves a rebound one."""
    import importlib

    from django.apps import apps as django_apps

    refresh = importlib.import_module("apps.reports.migrations.0004_refresh_shipped_forms")
    visits, basic = shipped_forms["care-visits"], shipped_forms["veterans-basic"]
    current = copy.deepcopy(visits.bindings)
    earlier = with_column(visits, "J", {"ref": "care.visits_done:hospitalised", "total": "sum"})
    rebound = with_column(basic, "C", {"ref": "registry.veterans"})
    ReportForm.objects.filter(pk=visits.pk).update(bindings=earlier, template=b"old")
    ReportForm.objects.filter(pk=basic.pk).update(bindings=rebound)
    monkeypatch.setattr(refresh, "SUPERSEDED", {"care-visits": {refresh.fingerprint(earlier)},
                                                "veterans-basic": {refresh.fingerprint(basic.bindings)}})
    refresh.refresh(django_apps, None)
    visits.refresh_from_db()
    basic.refresh_from_db()
    assert visits.bindings == current and bytes(visits.template).startswith(b"PK")
    assert basic.bindings == rebound


def test_column_headers_for_the_binding_page_leave_out_the_line_above_the_table(basic):
    """The boxed header rows label a column; the unboxed 填报单位/报告期/单位 line above them does not."""
    _workbook, ws = workbooks.open_sheet(bytes(basic.template), basic.sheet)
    headers = workbooks.header_texts(ws, 5)
    assert headers["A"] == "序号" and headers["C"] == "在册人数"
    assert headers["H"] == "按信息采集类别分 / 复员军人" and headers["AE"] == "按优抚类别分 / 铀矿开采军队退役人员"
