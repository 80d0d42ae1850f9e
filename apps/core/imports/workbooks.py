"""Workbooks an import gives back: the user's sheet with the bad cells marked and a "错误原因" column, and the
template of a spec (header, drop-down lists, a sheet of instructions)."""

from __future__ import annotations

import io
import logging
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import gettext as _

from apps.core.models import OrgUnit, User

from .headers import Column
from .problems import ImportFileError, ImportReport, Problem
from .reading import Source

logger = logging.getLogger(__name__)

ANNOTATE_MAX_ROWS = 20000  # up to this size the user's own xlsx is annotated; larger ones are rewritten
ERROR_FILL = "FFC7CE"
REASON_HEADER = "错误原因"
TEMPLATE_ROWS = 5000  # rows the template's drop-down lists cover

def error_workbook(*, path: str | Path, report: ImportReport, file_name: str = "", out: str | Path) -> None:
    """The user's sheet back with the bad cells filled red and a "错误原因" column.

    An xlsx of moderate size is annotated in place (formatting kept); anything else (xls, csv, large
    sheets) is rewritten row by row into a new xlsx with the same rows and columns.
    """
    by_row: dict[int, list[Problem]] = {}
    for problem in report.problems:
        by_row.setdefault(problem.row, []).append(problem)
    source = Source(path, file_name)
    try:
        if source.format == "xlsx" and source.estimate_rows() <= ANNOTATE_MAX_ROWS:
            try:
                _annotate_xlsx(source, report, by_row, out)
                return
            except ImportFileError:
                raise
            except Exception:  # an exotic workbook openpyxl cannot rewrite: fall back to a plain copy
                logger.warning("annotating %s failed; rewriting", source.name, exc_info=True)
        _rewrite_xlsx(source, report, by_row, out)
    finally:
        source.close()


def _reason_text(problems: list[Problem]) -> str:
    return "；".join(f"{p.column}：{p.reason}" if p.column else p.reason for p in problems)


def _annotate_xlsx(source: Source, report: ImportReport, by_row: dict[int, list[Problem]], out) -> None:
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.load_workbook(source.path)
    ws = workbook[report.sheet]
    fill = PatternFill("solid", fgColor=ERROR_FILL)
    red = Font(color="9C0006", bold=True)
    reason_col = report.reason_column + 1
    ws.cell(report.header_row, reason_col, REASON_HEADER).font = red
    ws.column_dimensions[openpyxl.utils.get_column_letter(reason_col)].width = 60
    for number, problems in by_row.items():
        for problem in problems:
            if problem.col_index is not None:
                ws.cell(number, problem.col_index + 1).fill = fill
        cell = ws.cell(number, reason_col, _reason_text(problems))
        cell.font = Font(color="9C0006")
    workbook.save(out)


def _rewrite_xlsx(source: Source, report: ImportReport, by_row: dict[int, list[Problem]], out) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_urls": False,
                                              "strings_to_formulas": False, "strings_to_numbers": False})
    ws = workbook.add_worksheet((report.sheet or "Sheet1")[:31])
    bad = workbook.add_format({"bg_color": "#" + ERROR_FILL})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bad_day = workbook.add_format({"num_format": "yyyy-mm-dd", "bg_color": "#" + ERROR_FILL})
    reason = workbook.add_format({"font_color": "#9C0006"})
    header = workbook.add_format({"bold": True, "font_color": "#9C0006"})
    reason_col = report.reason_column
    ws.set_column(reason_col, reason_col, 60)
    for number, values in source.rows(report.sheet_index):
        r = number - 1
        problems = by_row.get(number, [])
        bad_cols = {p.col_index for p in problems}
        for c, value in enumerate(values):
            if value is None:
                if c in bad_cols:
                    ws.write_blank(r, c, None, bad)
                continue
            style = bad if c in bad_cols else None
            if isinstance(value, (datetime, date)):
                ws.write_datetime(r, c, value, bad_day if c in bad_cols else day)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value, style)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value, style)
            else:
                ws.write_string(r, c, str(value)[:32767], style)
        for c in bad_cols - set(range(len(values))) - {None}:
            ws.write_blank(r, c, None, bad)
        if number == report.header_row:
            ws.write_string(r, reason_col, REASON_HEADER, header)
        elif problems:
            ws.write_string(r, reason_col, _reason_text(problems), reason)
    workbook.close()


# --- the template --------------------------------------------------------------------------------------------


def column_hint(column: Column) -> str:
    """How to fill in a column, from its kind (a spec may say more: ``ImportSpec.column_hint``)."""
    if column.kind == "date":
        return _("A date, e.g. 2008-12-01, 2008/12/01, 2008.12 or 2008年12月.")
    if column.kind == "code":
        return _("Choose from the drop-down list.")
    if column.max_length:
        return _("Text, at most %(n)d characters.") % {"n": column.max_length}
    return ""


def template_workbook(spec, *, user: User, choices: dict[str, list[str]]) -> bytes:
    """The import template of ``spec``: the header row (required columns in red), drop-down lists (data
    validation) for coded columns (``choices``: list name → values), units in the user's area and fixed
    options, and a sheet of instructions."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = spec.template_sheet
    guide = workbook.create_sheet("填写说明")
    lists = workbook.create_sheet("代码表")
    lists.sheet_state = "hidden"
    last_row = TEMPLATE_ROWS + 1
    bold = Font(bold=True)
    required_font = Font(bold=True, color="C00000")
    fill = PatternFill("solid", fgColor="EEF0F3")
    units: list[str] | None = None
    list_col = 0

    def add_list(title: str, values: list[str]) -> str | None:
        nonlocal list_col
        if not values:
            return None
        list_col += 1
        letter = get_column_letter(list_col)
        lists.cell(1, list_col, title)
        for i, value in enumerate(values, start=2):
            lists.cell(i, list_col, value)
        return f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${len(values) + 1}"

    error_title = _("Not in the list")
    error_text = _("Choose a value from the drop-down list.")
    for position, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(position)
        cell = ws.cell(1, position, column.header)
        cell.font = required_font if column.required or column.emphasised else bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[letter].width = 22 if column.kind in ("id", "unit") else (
            30 if (column.max_length or 0) >= 100 else 14)
        if column.kind in ("id", "phone", "date"):
            ws.column_dimensions[letter].number_format = "@"
        formula = None
        if column.kind == "code":
            formula = add_list(column.header, choices.get(column.choices or "", []))
        elif column.kind == "unit":
            if units is None:
                units = [f"{code} {name}" for code, name in OrgUnit.objects.visible_to(user).filter(is_active=True)
                         .order_by("path").values_list("code", "name")]
            formula = add_list(column.header, units)
        elif column.options:
            formula = '"' + ",".join(column.options) + '"'
        if formula:
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                        errorStyle="warning" if column.kind == "unit" else "stop",
                                        errorTitle=error_title, error=error_text)
            validation.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "C2"

    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 8
    guide.column_dimensions["C"].width = 70
    guide.column_dimensions["D"].width = 40
    notes = spec.template_notes()
    guide.cell(1, 1, _("How to fill in the sheet")).font = Font(bold=True, size=13)
    for i, note in enumerate(notes, start=2):
        guide.cell(i, 1, f"{i - 1}. {note}")
    start = len(notes) + 3
    for position, title in enumerate([_("Column"), _("Required"), _("How to fill it in"), _("Also accepted as")],
                                     start=1):
        guide.cell(start, position, title).font = bold
    for offset, column in enumerate(spec.columns, start=1):
        hint = (spec.column_hint(column) if spec.column_hint else "") or column_hint(column)
        guide.cell(start + offset, 1, column.header)
        guide.cell(start + offset, 2, _("yes") if column.required else "")
        guide.cell(start + offset, 3, hint).alignment = Alignment(wrap_text=True)
        guide.cell(start + offset, 4, "、".join(column.synonyms))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
