"""Build the shipped report forms: ``python -m apps.reports.shipped_forms.build`` writes ``<code>.xlsx`` (the
form as an authority would send it: a title, merged two-row headers, a block of rows for the units, a 合计 row,
a signature line) and ``<code>.json`` (its bindings, see ``apps.reports.workbooks``) beside this file.

The unit rows are a block of ``BLOCK_ROWS`` rows filled with the report unit's child units in code order (a
district's streets or a street's villages); rows left over are hidden when the report is filled. Category
columns bind to the seeded code tables' codes (registry migration 0002, care migration 0002)."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent
BLOCK_ROWS = 40
FIRST_ROW = 5  # title, info line, two header rows
COLLECTION = ["军队转业干部", "退役士兵", "军队离休退休干部和退休士官", "军队无军籍离退休退职职工", "复员军人", "退伍红军老战士",
              "残疾军人", "伤残民兵民工", "烈士遗属", "因公牺牲军人遗属", "病故军人遗属", "现役军人家属"]
CARE = ["残疾军人", "伤残人民警察", "伤残国家机关工作人员", "伤残民兵民工", "烈士遗属", "因公牺牲军人遗属", "病故军人遗属",
        "在乡退伍红军老战士", "红军失散人员", "在乡复员军人", "带病回乡退伍军人", "参战退役人员", "参试(涉核)退役人员",
        "60周岁以上农村籍退役士兵", "部分烈士子女", "铀矿开采军队退役人员"]
# Every occasion a visit can have (care migration 0002; life events are what a visit answers, not its occasion:
# care.visits_done has no bucket for them), so the columns add up to the total.
OCCASIONS = [("spring_festival", "春节走访"), ("army_day", "八一走访"), ("mid_autumn", "中秋走访"), ("contact", "常态化联系"),
             ("must_visit", "六必访走访"), ("homecoming", "退役返乡走访"), ("enlist", "新兵入伍慰问"),
             ("birthday", "高龄生日走访"), ("merit_delivery", "送喜报"), ("plaque", "悬挂光荣牌"), ("other", "其他走访")]
COUNT, PERCENT, MONEY = "0", "0.0%", "#,##0.00"


def col(header, ref, total="", group="", width=8.0, fmt=COUNT):
    return {"header": header, "ref": ref, "total": total, "group": group, "width": width, "format": fmt}


FORMS = {
    "veterans-basic": {
        "name": "退役军人基本情况统计表",
        "description": "各街道（社区）在册退役军人和其他优抚对象人数，按信息采集类别和优抚类别分列。",
        "columns": [col("在册人数", "registry.veterans", "sum", width=9)]
        + [col(name, f"registry.by_category:{i:02d}", "sum", "按信息采集类别分") for i, name in enumerate(COLLECTION, 1)]
        + [col(name, f"registry.by_care_category:{i:02d}", "sum", "按优抚类别分") for i, name in enumerate(CARE, 1)],
        "unit": "人",
    },
    "care-visits": {
        "name": "走访慰问统计表",
        "description": "各街道（社区）本期走访慰问次数（按走访事由）、重点优抚对象走访覆盖率、慰问金和慰问品。",
        "columns": [col("走访慰问合计（次）", "care.visits_done", "sum", width=10)]
        + [col(name, f"care.visits_done:{code}", "sum", "其中按走访事由（次）") for code, name in OCCASIONS]
        + [col("重点优抚对象走访覆盖率", "care.key_coverage", "unit", width=11, fmt=PERCENT),
           col("慰问金（元）", "care.money", "sum", width=12, fmt=MONEY),
           col("送慰问品（次）", "care.goods", "sum", width=10)],
        "unit": "次、元",
    },
    "honors-plaques": {
        "name": "光荣牌与立功喜报统计表",
        "description": "各街道（社区）光荣牌悬挂和立功喜报送达情况。",
        "columns": [col("已悬挂光荣牌（户）", "honors.plaques_hung", "sum", "光荣牌", width=12),
                    col("悬挂率", "honors.plaque_coverage", "unit", "光荣牌", width=9, fmt=PERCENT),
                    col("悬挂光荣牌走访（次）", "care.visits_done:plaque", "sum", "光荣牌", width=11),
                    col("按时送达率", "honors.notices_delivered_on_time", "unit", "立功喜报", width=10, fmt=PERCENT),
                    col("送喜报走访（次）", "care.visits_done:merit_delivery", "sum", "立功喜报", width=12)],
        "unit": "户、次",
    },
}

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
LEFT = Alignment(horizontal="left", vertical="center")
RIGHT = Alignment(horizontal="right", vertical="center")


def span(ws, row: int, start: int, width: float, widths: list[float], text, alignment, end: int = 0) -> int:
    """Merge row ``row`` from column ``start`` over as many columns as make ``width`` (or up to ``end``), put
    ``text`` (if any) there aligned so; the last column merged."""
    end = end or start
    while sum(widths[start - 1:end]) < width and end < len(widths):
        end += 1
    if end > start:
        ws.merge_cells(start_row=row, start_column=start, end_row=row, end_column=end)
    cell = ws.cell(row, start)
    if text is not None:
        cell.value = text
    cell.alignment = alignment
    return end


def build(code: str, spec: dict) -> tuple[Workbook, dict]:
    workbook = Workbook()
    ws = workbook.active
    ws.title = spec["name"]
    columns = [col("序号", "@serial", width=5), col("单位", "@unit", width=16)] + spec["columns"]
    last = get_column_letter(len(columns))
    totals_row = FIRST_ROW + BLOCK_ROWS
    # Title and the information line.
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = spec["name"]
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws["A1"].alignment = CENTER
    ws.row_dimensions[1].height = 30
    # The information line: 填报单位 and 报告期, a label and a value each, merged over as many columns as their text
    # needs (column A is the narrow 序号 column: a label alone in it would be cut); the value cells are bound.
    widths = [c["width"] for c in columns]
    at = 1
    info_cells = []
    for label, label_width, value_width in [("填报单位：", 12, 20), ("报告期：", 10, 18)]:
        at = span(ws, 2, at, label_width, widths, label, RIGHT) + 1
        info_cells.append(f"{get_column_letter(at)}2")
        at = span(ws, 2, at, value_width, widths, None, LEFT) + 1
    if at + 1 < len(columns):
        span(ws, 2, len(columns) - 1, 0, widths, f"单位：{spec['unit']}", RIGHT, end=len(columns))
    # Two header rows: a group over its columns, or one header spanning both rows.
    index = 0
    while index < len(columns):
        column = columns[index]
        letter = get_column_letter(index + 1)
        if column["group"]:
            end = index
            while end + 1 < len(columns) and columns[end + 1]["group"] == column["group"]:
                end += 1
            ws.merge_cells(f"{letter}3:{get_column_letter(end + 1)}3")
            ws[f"{letter}3"] = column["group"]
            for i in range(index, end + 1):
                ws.cell(4, i + 1, columns[i]["header"])
            index = end + 1
        else:
            ws.merge_cells(f"{letter}3:{letter}4")
            ws[f"{letter}3"] = column["header"]
            index += 1
    for row in (3, 4):
        ws.row_dimensions[row].height = 24 if row == 3 else 66
        for i in range(1, len(columns) + 1):
            cell = ws.cell(row, i)
            cell.font, cell.alignment, cell.border, cell.fill = Font(name="宋体", size=10, bold=True), CENTER, BOX, HEAD_FILL
    # The block of unit rows and the totals row.
    for row in range(FIRST_ROW, totals_row + 1):
        for i, column in enumerate(columns, 1):
            cell = ws.cell(row, i)
            cell.border = BOX
            cell.font = Font(name="宋体", size=10, bold=row == totals_row)
            cell.alignment = Alignment(horizontal="left" if i == 2 else "center", vertical="center")
            if i > 2:
                cell.number_format = column["format"]
    ws.merge_cells(f"A{totals_row}:B{totals_row}")
    ws[f"A{totals_row}"] = "合计"
    ws[f"A{totals_row}"].alignment = CENTER
    # Signatures under the table (a third of the width each), and the 填报日期 line (bound) below them.
    third = max(len(columns) // 3, 2)
    for start, label in [(1, "填表人："), (1 + third, "审核人："), (1 + 2 * third, "单位负责人：")]:
        span(ws, totals_row + 2, start, 14, widths, label, LEFT)
    at = span(ws, totals_row + 3, 1, 12, widths, "填报日期：", LEFT) + 1
    info_cells.append(f"{get_column_letter(at)}{totals_row + 3}")
    span(ws, totals_row + 3, at, 14, widths, None, LEFT)
    for i, column in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = column["width"]
    ws.freeze_panes = f"C{FIRST_ROW}"
    ws.print_title_rows = "3:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    bindings = {
        "grid": {"mode": "children", "first_row": FIRST_ROW, "rows": BLOCK_ROWS, "totals_row": totals_row,
                 "columns": {get_column_letter(i): ({"ref": c["ref"], "total": c["total"]} if c["total"] else {"ref": c["ref"]})
                             for i, c in enumerate(columns, 1)}},
        "cells": dict(zip(info_cells, ["@unit", "@period", "@date"], strict=True)),
    }
    return workbook, bindings


def main() -> None:
    for code, spec in FORMS.items():
        workbook, bindings = build(code, spec)
        workbook.properties.creator = "Veterans Portal"
        workbook.save(HERE / f"{code}.xlsx")
        meta = {"code": code, "name": spec["name"], "description": spec["description"], "period_kind": "quarter",
                "unit_levels": ["district", "street"], "bindings": bindings}
        (HERE / f"{code}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{code}: {HERE / f'{code}.xlsx'}")


if __name__ == "__main__":
    main()
