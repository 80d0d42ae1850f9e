"""Report forms: reading the authority's xlsx, checking the bindings of its cells to figures, filling it.

A form is the workbook the higher authority sends, kept byte for byte as uploaded. Its ``bindings`` say which
cells receive which figure (``apps.core.figures``); filling loads the workbook with openpyxl, writes values into
the bound cells only and saves it, so merged headers, fonts, borders, widths and print settings stay the form's.

Bindings (``ReportForm.bindings``, JSON)::

    {"grid": {"mode": "children",          # or "fixed"
              "first_row": 6, "rows": 40,  # children: the block of rows the units fill, top to bottom
              "units": {"6": "320111001000"},  # fixed: row → unit (by division code)
              "columns": {"A": {"ref": "@serial"}, "B": {"ref": "@unit"},
                          "C": {"ref": "registry.veterans", "total": "sum"},
                          "D": {"ref": "care.key_coverage", "total": "unit"}},
              "totals_row": 46},
     "cells": {"B3": "@unit", "F3": "@period", "C50": "registry.by_sex:F"}}

- A figure reference is ``key`` or ``key:bucket`` (``figures.parse_ref``). ``@unit``, ``@code``, ``@serial``,
  ``@period`` and ``@date`` write the row's (or the report's) unit name, its division code, the row number within
  the block, the period's label and the day of generation.
- Grid, mode ``children``: the rows are the report unit's active child units in division-code order (a district's
  streets, a street's villages), so one form serves every district and every street however many units they have.
  The block must have at least as many rows as there are children; rows left over are emptied and hidden (hidden
  rows are not printed), which keeps every merged cell and style below the block where the authority put it.
- Grid, mode ``fixed``: the authority's own row per unit (row number → unit code); every row unit must lie within
  the report's unit.
- Totals row: per column ``sum`` (the sum of the column's rows) or ``unit`` (the report unit's own figure, the
  only right total for a ratio); empty for none.
- Single cells: the report unit's figure.
- Ratios are written as a fraction when the cell's number format is a percentage (``0.0%``), else as a percentage
  number (85.3); 0 of 0 is left blank (nothing was due). Counts and amounts of a period without data are 0.
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string

from apps.core import figures
from apps.core.choices import OrgLevel
from apps.core.figures import Figure, Period
from apps.core.models import OrgUnit

SERIAL, UNIT, CODE, PERIOD, DATE = "@serial", "@unit", "@code", "@period", "@date"
ROW_WORDS = (SERIAL, UNIT, CODE)  # grid columns
CELL_WORDS = (UNIT, CODE, PERIOD, DATE)  # single cells
SUM, OWN = "sum", "unit"
CHILDREN, FIXED = "children", "fixed"
CHILD_LEVEL = {OrgLevel.DISTRICT.value: OrgLevel.STREET.value, OrgLevel.STREET.value: OrgLevel.COMMUNITY.value}
MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})$")
_COLUMN = re.compile(r"^[A-Z]{1,3}$")


class FormError(ValidationError):
    """A refusal about a form, its file or its bindings: a list of Chinese messages, each naming its cell."""


# --- reading the form --------------------------------------------------------------------------------


def open_sheet(template: bytes, sheet: str = ""):
    """The workbook and the form's sheet (the named one, else the first)."""
    workbook = load_workbook(io.BytesIO(bytes(template)))
    if sheet and sheet in workbook.sheetnames:
        return workbook, workbook[sheet]
    return workbook, workbook.worksheets[0]


def check_template(content: bytes, name: str = "") -> list[str]:
    """Refuse anything but an ordinary xlsx workbook before openpyxl inflates it; the sheet names when fine."""
    from apps.core.imports.problems import ImportFileError
    from apps.core.imports.reading import check_zip

    if not content:
        raise FormError(_("The file is empty (0 bytes)."))
    if len(content) > MAX_TEMPLATE_BYTES:
        raise FormError(_("The form file is larger than %(mb)d MB: it is not an ordinary report form.")
                        % {"mb": MAX_TEMPLATE_BYTES // (1024 * 1024)})
    if not content.startswith(b"PK\x03\x04"):
        raise FormError(_("Upload the form as an Excel workbook (xlsx); save an xls form as xlsx in Excel or WPS first."))
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(content)
        handle.flush()
        try:
            check_zip(handle.name)
        except ImportFileError as exc:
            raise FormError(str(exc)) from exc
    try:
        workbook = load_workbook(io.BytesIO(content))
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FormError(_("The workbook is damaged or protected by a password; save it again without a password.")) from exc
    return workbook.sheetnames


def merged_owner(sheet, coordinate: str) -> str | None:
    """The merged range a cell lies in when it is not the range's top-left cell (nothing can be written there)."""
    column, row = coordinate_from_string(coordinate)
    col = column_index_from_string(column)
    for merged in sheet.merged_cells.ranges:
        inside = merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col
        if inside and (row, col) != (merged.min_row, merged.min_col):
            return merged.coord
    return None


def _boxed(cell) -> bool:
    border = cell.border
    return any(side is not None and side.style for side in (border.left, border.right, border.top, border.bottom))


def header_texts(sheet, first_row: int) -> dict[str, str]:
    """For each column, the texts of up to three rows above ``first_row`` (its header, merged headers included),
    to label the binding page's rows. When the header row next to the unit rows is boxed (bordered), only boxed
    rows count: the unboxed line above a header (填报单位：…, 单位：人) is not part of it."""
    texts: dict[str, str] = {}
    owners = {}
    for merged in sheet.merged_cells.ranges:
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                owners[(row, col)] = (merged.min_row, merged.min_col)
    for col in range(1, (sheet.max_column or 0) + 1):
        parts: list[str] = []
        boxed = False
        for row in range(first_row - 1, max(1, first_row - 3) - 1, -1):
            cell = sheet.cell(*owners.get((row, col), (row, col)))
            if row == first_row - 1:
                boxed = _boxed(sheet.cell(row, col))
            elif boxed and not _boxed(sheet.cell(row, col)):
                break
            value = cell.value
            if value not in (None, "") and str(value).strip() not in parts:
                parts.insert(0, str(value).strip())
        texts[get_column_letter(col)] = " / ".join(parts)
    return texts


def preview(template: bytes, sheet: str = "", max_rows: int = 60) -> list[list[dict]]:
    """The sheet's first rows as cells ``{coord, text, colspan, rowspan}`` (merged cells spanned, covered cells
    skipped), for the binding page."""
    _workbook, ws = open_sheet(template, sheet)
    spans, covered = {}, set()
    for merged in ws.merged_cells.ranges:
        spans[(merged.min_row, merged.min_col)] = (merged.max_row - merged.min_row + 1, merged.max_col - merged.min_col + 1)
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                if (row, col) != (merged.min_row, merged.min_col):
                    covered.add((row, col))
    rows = []
    for row in range(1, min(ws.max_row, max_rows) + 1):
        cells = []
        for col in range(1, ws.max_column + 1):
            if (row, col) in covered:
                continue
            rowspan, colspan = spans.get((row, col), (1, 1))
            value = ws.cell(row, col).value
            cells.append({"coord": f"{get_column_letter(col)}{row}", "text": "" if value is None else str(value),
                          "rowspan": min(rowspan, max_rows - row + 1), "colspan": colspan})
        rows.append(cells)
    return rows


# --- checking bindings -------------------------------------------------------------------------------


@dataclass
class Binding:
    """One resolved reference: a word (``@unit``…) or a figure with its bucket."""

    text: str
    word: str = ""
    figure: Figure | None = None
    bucket: str = ""


@dataclass
class Plan:
    """Checked bindings, ready to fill."""

    mode: str = ""
    first_row: int = 0
    rows: int = 0
    units: dict[int, str] = field(default_factory=dict)
    columns: dict[str, Binding] = field(default_factory=dict)
    totals: dict[str, str] = field(default_factory=dict)
    totals_row: int = 0
    cells: dict[str, Binding] = field(default_factory=dict)

    @property
    def figures(self) -> list[Figure]:
        found = {b.figure.key: b.figure for b in [*self.columns.values(), *self.cells.values()] if b.figure}
        return list(found.values())


def _resolve(text: str, where: str, words: tuple[str, ...], errors: list[str]) -> Binding | None:
    text = (text or "").strip()
    if text.startswith("@"):
        if text in words:
            return Binding(text, word=text)
        errors.append(_("Cell %(cell)s: “%(ref)s” is not something a cell here can show (use %(words)s or a figure).")
                      % {"cell": where, "ref": text, "words": ", ".join(words)})
        return None
    key, bucket = figures.parse_ref(text)
    figure = figures.get(key)
    if figure is None:
        errors.append(_("Cell %(cell)s: there is no figure “%(key)s”.") % {"cell": where, "key": key})
        return None
    if bucket:
        if figure.buckets is None:
            errors.append(_("Cell %(cell)s: figure “%(key)s” (%(label)s) has no breakdown, so “%(bucket)s” cannot be "
                            "asked for.") % {"cell": where, "key": key, "label": figure.label, "bucket": bucket})
            return None
        if bucket not in {code for code, _label in figure.buckets()}:
            errors.append(_("Cell %(cell)s: figure “%(key)s” (%(label)s) has no breakdown item “%(bucket)s”.")
                          % {"cell": where, "key": key, "label": figure.label, "bucket": bucket})
            return None
    return Binding(text, figure=figure, bucket=bucket)


def _check_split(binding: Binding | None, level: str, where: str, errors: list[str]) -> None:
    if binding is not None and binding.figure is not None and not binding.figure.splits_by(level):
        errors.append(_("Cell %(cell)s: figure “%(key)s” (%(label)s) is not counted per %(level)s.")
                      % {"cell": where, "key": binding.figure.key, "label": binding.figure.label,
                         "level": OrgLevel(level).label})


def _int(value, name: str, errors: list[str]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        errors.append(_("%(name)s must be a row number (1 or more).") % {"name": name})
    return number


def check_bindings(template: bytes, sheet: str, unit_levels: list[str], bindings: dict) -> Plan:
    """Check every binding against the form's sheet and the figure registry; all problems at once, each naming
    its cell. Raises ``FormError``."""
    _workbook, ws = open_sheet(template, sheet)
    errors: list[str] = []
    plan = Plan()
    taken: dict[str, str] = {}  # cell → what bound it first

    def claim(coordinate: str, label: str) -> bool:
        column, row = coordinate_from_string(coordinate)
        if row > ws.max_row or column_index_from_string(column) > ws.max_column:
            errors.append(_("Cell %(cell)s lies outside the form's sheet (it ends at %(end)s).")
                          % {"cell": coordinate, "end": f"{get_column_letter(ws.max_column)}{ws.max_row}"})
            return False
        owner = merged_owner(ws, coordinate)
        if owner:
            errors.append(_("Cell %(cell)s lies inside the merged cells %(range)s: bind the range's first cell.")
                          % {"cell": coordinate, "range": owner})
            return False
        if coordinate in taken:
            errors.append(_("Cell %(cell)s is bound twice (%(first)s and %(second)s).")
                          % {"cell": coordinate, "first": taken[coordinate], "second": label})
            return False
        taken[coordinate] = label
        return True

    grid = bindings.get("grid") or {}
    mode = grid.get("mode") or ""
    if mode not in ("", CHILDREN, FIXED):
        errors.append(_("Unknown row mode “%(mode)s”.") % {"mode": mode})
        mode = ""
    plan.mode = mode
    row_levels: dict[int, str] = {}
    if mode:
        columns = grid.get("columns") or {}
        if mode == CHILDREN:
            plan.first_row = _int(grid.get("first_row"), _("The first row of the units"), errors)
            plan.rows = _int(grid.get("rows"), _("The number of rows for units"), errors)
            levels = []
            for level in unit_levels:
                if level not in CHILD_LEVEL:
                    errors.append(_("A %(level)s has no units below it: one row per unit below the report's unit "
                                    "cannot be filled for it.") % {"level": OrgLevel(level).label})
                else:
                    levels.append(CHILD_LEVEL[level])
            if plan.first_row and plan.rows:
                row_levels = {row: "" for row in range(plan.first_row, plan.first_row + plan.rows)}
            split_levels = levels
        else:
            known = {u.code: u for u in OrgUnit.objects.filter(code__in=[str(c) for c in (grid.get("units") or {}).values()])}
            for row_text, code in sorted((grid.get("units") or {}).items(), key=lambda item: int(item[0])):
                row = int(row_text)
                unit = known.get(str(code))
                if unit is None:
                    errors.append(_("Row %(row)d: there is no unit with the code %(code)s.") % {"row": row, "code": code})
                    continue
                plan.units[row] = unit.code
                row_levels[row] = unit.level
            if not plan.units:
                errors.append(_("Give each unit row of the form its unit (row number = division code)."))
            split_levels = []
        plan.totals_row = int(grid.get("totals_row") or 0)
        if plan.totals_row and plan.totals_row in row_levels:
            errors.append(_("The totals row %(row)d lies among the unit rows.") % {"row": plan.totals_row})
        for column, spec in sorted(columns.items(), key=lambda item: column_index_from_string(item[0])):
            if not _COLUMN.match(column):
                errors.append(_("“%(column)s” is not a column letter.") % {"column": column})
                continue
            where = (f"{column}{min(row_levels)}:{column}{max(row_levels)}" if row_levels else column)
            binding = _resolve(spec.get("ref", ""), where, ROW_WORDS, errors)
            if binding is None:
                continue
            ok = all([claim(f"{column}{row}", where) for row in row_levels])
            for level in split_levels:
                _check_split(binding, level, where, errors)
            for row, level in row_levels.items():
                if level:
                    _check_split(binding, level, f"{column}{row}", errors)
            total = spec.get("total") or ""
            if total and not plan.totals_row:
                errors.append(_("Cell %(cell)s: a total is asked for but the form has no totals row.") % {"cell": where})
            elif total:
                total_cell = f"{column}{plan.totals_row}"
                if total not in (SUM, OWN):
                    errors.append(_("Cell %(cell)s: unknown total “%(total)s”.") % {"cell": total_cell, "total": total})
                elif binding.figure is None:
                    errors.append(_("Cell %(cell)s: only a figure column can have a total.") % {"cell": total_cell})
                elif total == SUM and binding.figure.kind in (figures.RATIO, figures.LATEST):
                    errors.append(_("Cell %(cell)s: figure “%(key)s” (%(label)s) is a rate or a moment: its total is "
                                    "the report unit's own figure, not a sum.")
                                  % {"cell": total_cell, "key": binding.figure.key, "label": binding.figure.label})
                elif claim(total_cell, _("totals row")):
                    if total == OWN:
                        for level in unit_levels:
                            _check_split(binding, level, total_cell, errors)
                    plan.totals[column] = total
            if ok:
                plan.columns[column] = binding
        if not any(b.figure for b in plan.columns.values()):
            errors.append(_("The unit rows have no column bound to a figure."))
    for coordinate, text in sorted((bindings.get("cells") or {}).items()):
        coordinate = coordinate.strip().upper()
        if not _CELL.match(coordinate):
            errors.append(_("“%(cell)s” is not a cell address (like C5).") % {"cell": coordinate})
            continue
        coordinate = coordinate.replace("$", "")
        binding = _resolve(text, coordinate, CELL_WORDS, errors)
        if binding is None:
            continue
        for level in unit_levels:
            _check_split(binding, level, coordinate, errors)
        if claim(coordinate, _("single cell")):
            plan.cells[coordinate] = binding
    if not errors and not plan.figures:
        errors.append(_("The form has no cell bound to a figure."))
    if errors:
        raise FormError(errors)
    return plan


# --- filling -----------------------------------------------------------------------------------------


@dataclass
class Filled:
    content: bytes
    values: dict  # cell → {"ref", "unit", "value"}


def _written(binding: Binding, reading, number_format: str):
    """The value written for one reading (see the module docstring)."""
    figure = binding.figure
    value, base = reading.bucket(binding.bucket)
    if figure.kind == figures.RATIO:
        if not base:
            return None
        return round(value / base, 4) if "%" in (number_format or "") else round(100 * value / base, 1)
    if figure.kind == figures.LATEST:
        return timezone.localtime(datetime.fromtimestamp(value, tz=UTC)).replace(tzinfo=None) if value else None
    return value


def row_units(form, unit: OrgUnit, plan: Plan) -> dict[int, OrgUnit]:
    """Row → unit of the grid for a report of ``unit``; refuses what does not fit the form."""
    if plan.mode == CHILDREN:
        children = list(OrgUnit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1, is_active=True)
                        .order_by("code"))
        if len(children) > plan.rows:
            raise FormError(_("The form has %(rows)d rows for units, but %(unit)s has %(count)d units below it: add "
                              "rows to the form's block and upload it again.")
                            % {"rows": plan.rows, "unit": unit.name, "count": len(children)})
        for child in children:
            for column, binding in plan.columns.items():
                if binding.figure is not None and not binding.figure.splits_by(child.level):
                    raise FormError(_("Cell %(cell)s: figure “%(key)s” (%(label)s) is not counted per %(level)s.")
                                    % {"cell": f"{column}{plan.first_row}", "key": binding.figure.key,
                                       "label": binding.figure.label, "level": OrgLevel(child.level).label})
        return {plan.first_row + i: child for i, child in enumerate(children)}
    if plan.mode == FIXED:
        units = {u.code: u for u in OrgUnit.objects.filter(code__in=plan.units.values())}
        found = {}
        for row, code in plan.units.items():
            row_unit = units.get(code)
            if row_unit is None or not row_unit.path.startswith(unit.path) or row_unit.pk == unit.pk:
                raise FormError(_("Row %(row)d: unit %(code)s is not within %(unit)s, the unit of this report.")
                                % {"row": row, "code": code, "unit": unit.name})
            found[row] = row_unit
        return found
    return {}


def fill(form, unit: OrgUnit, period: Period, *, plan: Plan | None = None) -> Filled:
    """The form filled for ``unit`` and ``period``: the workbook's bytes and the values written."""
    plan = plan or check_bindings(bytes(form.template), form.sheet, form.unit_levels, form.bindings)
    rows = row_units(form, unit, plan)
    readings = figures.read(plan.figures, [period], [unit.pk, *[u.pk for u in rows.values()]])
    workbook, ws = open_sheet(bytes(form.template), form.sheet)
    values: dict[str, dict] = {}
    today = timezone.localdate()

    def put(coordinate: str, binding: Binding, row_unit: OrgUnit, serial: int = 0):
        cell = ws[coordinate]
        if binding.word == SERIAL:
            value = serial
        elif binding.word == UNIT:
            value = row_unit.name
        elif binding.word == CODE:
            value = row_unit.code
        elif binding.word == PERIOD:
            value = period.label
        elif binding.word == DATE:
            value = today.isoformat()
        else:
            value = _written(binding, readings[(binding.figure.key, period.key, row_unit.pk)], cell.number_format)
        cell.value = value
        values[coordinate] = {"ref": binding.text, "unit": row_unit.code,
                              "value": value.isoformat() if isinstance(value, datetime) else value}
        return value

    sums: dict[str, float] = {}
    for serial, (row, row_unit) in enumerate(sorted(rows.items()), start=1):
        for column, binding in plan.columns.items():
            value = put(f"{column}{row}", binding, row_unit, serial)
            if binding.figure is not None and isinstance(value, int | float):
                sums[column] = sums.get(column, 0) + value
    if plan.mode == CHILDREN:
        for row in range(plan.first_row + len(rows), plan.first_row + plan.rows):
            for column in plan.columns:
                ws[f"{column}{row}"].value = None
            ws.row_dimensions[row].hidden = True
    for column, total in plan.totals.items():
        coordinate = f"{column}{plan.totals_row}"
        binding = plan.columns[column]
        if total == SUM:
            value = sums.get(column, 0)
            value = round(value, 2) if isinstance(value, float) else value
            ws[coordinate].value = value
            values[coordinate] = {"ref": f"sum({column})", "unit": unit.code, "value": value}
        else:
            put(coordinate, binding, unit)
    for coordinate, binding in plan.cells.items():
        put(coordinate, binding, unit)
    workbook.properties.modified = timezone.now().replace(tzinfo=None, microsecond=0)
    out = io.BytesIO()
    workbook.save(out)
    return Filled(out.getvalue(), values)
