"""The shared xlsx and CSV writers, read back with openpyxl and csv: typed cells, the watermark in the sheet,
its page header/footer and the document properties, merged header rows, totals, and text never run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils.translation import gettext as _

from apps.core.exports.csv import csv_lines, csv_response
from apps.core.exports.xlsx import HeaderCell, Watermark, XlsxColumn, header_grid, write_xlsx

WHEN = datetime(2026, 3, 4, 1, 2, 3, tzinfo=ZoneInfo("UTC"))  # 09:02:03 in Asia/Shanghai

COLUMNS = [XlsxColumn("姓名", "text", 10), XlsxColumn("人数", "int"), XlsxColumn("金额", "decimal"),
           XlsxColumn("日期", "date"), XlsxColumn("时间", "datetime", 18), XlsxColumn("在册", "bool"),
           XlsxColumn("占比", "percent")]


def write(user, rows, **options):
    out = io.BytesIO()
    count = write_xlsx(out, sheet_title=options.pop("sheet_title", "测试表"), columns=options.pop("columns", COLUMNS),
                       rows=rows, watermark=Watermark(user, WHEN, options.pop("filters", ["单位：甲街道"])), **options)
    out.seek(0)
    return count, out


@pytest.fixture
def user(users):
    return users["street_a"]


def test_typed_cells_and_watermark(user):
    rows = [("=HYPERLINK(\"http://x\")", 3, Decimal("12.50"), date(2026, 1, 2), WHEN, True, 0.25),
            ("李四", None, "", None, None, False, None)]
    count, out = write(user, iter(rows))
    assert count == 2
    book = openpyxl.load_workbook(out)
    sheet = book.active
    assert sheet.title == "测试表"
    assert sheet["A1"].value == "测试表"
    assert user.username in sheet["A2"].value and "2026-03-04 09:02:03" in sheet["A2"].value
    assert sheet["A3"].value == _("Filters: %(filters)s") % {"filters": "单位：甲街道"}
    assert [c.value for c in sheet[4]] == ["姓名", "人数", "金额", "日期", "时间", "在册", "占比"]
    first = sheet[5]
    # a formula-looking text stays a string cell, never a formula
    assert first[0].value == "=HYPERLINK(\"http://x\")" and first[0].data_type == "s"
    assert first[1].value == 3 and first[2].value == 12.5 and first[2].number_format == "#,##0.00"
    assert first[3].value == datetime(2026, 1, 2) and first[3].number_format == "yyyy-mm-dd"
    assert first[4].value == datetime(2026, 3, 4, 9, 2, 3)  # local time, no timezone
    assert first[5].value == _("Yes") and first[6].value == 0.25 and first[6].number_format == "0%"
    second = sheet[6]
    assert [c.value for c in second] == ["李四", None, None, None, None, _("No"), None]
    assert sheet.auto_filter.ref == "A4:G6"
    assert sheet.freeze_panes == "A5"
    # watermark in the printed header and footer and in the document properties
    assert user.username in sheet.oddHeader.right.text and "09:02:03" in sheet.oddHeader.right.text
    assert "单位：甲街道" in sheet.oddFooter.left.text
    assert user.username in book.properties.creator
    assert "单位：甲街道" in book.properties.keywords and user.username in book.properties.description
    custom = {prop.name: prop.value for prop in book.custom_doc_props.props}
    assert custom["exported_at"] == "2026-03-04 09:02:03" and user.username in custom["exported_by"]
    assert custom["filters"] == "单位：甲街道"


def test_merged_header_rows_and_totals(user):
    columns = [XlsxColumn("单位"), XlsxColumn("合计", "int"), XlsxColumn("男", "int"), XlsxColumn("女", "int"),
               XlsxColumn("金额", "decimal")]
    header_rows = [[HeaderCell("单位", rowspan=3), HeaderCell("人数", colspan=3), HeaderCell("金额", rowspan=3)],
                   [HeaderCell("小计", rowspan=2), HeaderCell("其中", colspan=2)]]
    rows = [("甲", 3, 1, 2, Decimal("1.5")), ("乙", 4, 4, 0, Decimal("2.25"))]
    count, out = write(user, rows, columns=columns, header_rows=header_rows,
                       totals={0: "合计", 1: "sum", 2: "sum", 3: "sum", 4: "sum"})
    assert count == 2
    sheet = openpyxl.load_workbook(out).active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A4:A6", "B4:D4", "E4:E6", "B5:B6", "C5:D5"}
    assert [c.value for c in sheet[4]] == ["单位", "人数", None, None, "金额"]
    assert [c.value for c in sheet[5]] == [None, "小计", "其中", None, None]
    assert [c.value for c in sheet[6]] == [None, None, "男", "女", None]
    assert [c.value for c in sheet[7]] == ["甲", 3, 1, 2, 1.5]
    assert [c.value for c in sheet[9]] == ["合计", "=SUM(B7:B8)", "=SUM(C7:C8)", "=SUM(D7:D8)", "=SUM(E7:E8)"]
    assert sheet.freeze_panes == "A7"
    assert sheet.print_title_rows == "$4:$6"
    out.seek(0)
    cached = openpyxl.load_workbook(out, data_only=True).active
    assert [c.value for c in cached[9]] == ["合计", 7, 5, 2, 3.75]


def test_any_object_with_header_kind_width_is_a_column(user):
    class TableColumn:
        def __init__(self, header, kind):
            self.header, self.kind, self.width, self.accessor = header, kind, 12, "x"

    count, out = write(user, [("a", 1)], columns=[TableColumn("名", "text"), TableColumn("数", "int")], filters=[])
    sheet = openpyxl.load_workbook(out).active
    assert count == 1 and [c.value for c in sheet[5]] == ["a", 1]
    assert sheet["A3"].value == _("Filters: %(filters)s") % {"filters": _("none")}


def test_many_rows_stream_with_progress(user):
    seen = []
    count, out = write(user, (("x", n, None, None, None, None, None) for n in range(4500)), progress=seen.append,
                       totals={1: "sum"})
    assert count == 4500 and seen == [2000, 4000]
    sheet = openpyxl.load_workbook(out, data_only=True).active
    assert sheet.max_row == 4 + 4500 + 1 and sheet.cell(4 + 4500 + 1, 2).value == sum(range(4500))


def test_bad_layouts_are_refused(user):
    with pytest.raises(ValueError):
        XlsxColumn("x", "money")
    with pytest.raises(ValueError):
        header_grid([[HeaderCell("太宽", colspan=3)]], 2)


def test_csv_neutralises_formulas_and_streams():
    text = "".join(csv_lines(["名", "值"], [("=1+1", -3), ("@SUM(A1)", date(2026, 1, 2)), ("+x", WHEN)]))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["名", "值"], ["'=1+1", "-3"], ["'@SUM(A1)", "2026-01-02"], ["'+x", "2026-03-04 09:02:03+08:00"]]
    response = csv_response("审计.csv", ["a"], [("b",)])
    assert response["Content-Type"] == "text/csv; charset=utf-8" and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode() == "\ufeffa\r\nb\r\n"
