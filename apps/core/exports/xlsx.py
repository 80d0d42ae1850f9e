"""One xlsx writer for every export: typed streaming columns, a watermark, merged headers and a totals row.

XlsxWriter runs in ``constant_memory`` mode: each row is flushed to a temporary file as soon as the next one
starts, so memory stays flat however many rows stream in. Rows must therefore be written strictly in order,
each complete before the next (the header block is laid out first, then written row by row).

Text cells are always written with ``write_string``: a value such as ``=HYPERLINK(...)`` stays text and is never
run as a formula. The watermark (who exported, when, under which filters) is written above the table, in the
printed page header and footer and in the document properties.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _
from xlsxwriter.utility import xl_rowcol_to_cell

if TYPE_CHECKING:
    from apps.core.models import User

KINDS = ("text", "int", "decimal", "date", "datetime", "bool", "percent")
NUMBER_FORMATS = {"text": "@", "int": "0", "decimal": "#,##0.00", "date": "yyyy-mm-dd",
                  "datetime": "yyyy-mm-dd hh:mm:ss", "percent": "0%", "bool": None}
EXCEL_EPOCH = date(1899, 12, 30).toordinal()
HEADER_FOOTER_MAX = 250  # Excel refuses a page header or footer over 255 characters, codes included
PROGRESS_EVERY = 2000


class Column(Protocol):
    """What the writer needs of a column; list-kit table columns qualify as they are."""

    header: object
    kind: str
    width: float


@dataclass(frozen=True)
class XlsxColumn:
    header: object  # str or lazy translation
    kind: str = "text"
    width: float = 14

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown xlsx column kind {self.kind!r}")


@dataclass(frozen=True)
class HeaderCell:
    """A cell of a header row above the column headers; it spans ``colspan`` columns and ``rowspan`` rows
    (a rowspan reaching the column header row covers that column's own header)."""

    text: object
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class Watermark:
    user: User
    when: datetime
    filters: list[str] = field(default_factory=list)

    @property
    def who(self) -> str:
        return f"{self.user.real_name or self.user.username}（{self.user.username}）"

    @property
    def stamp(self) -> str:
        return timezone.localtime(self.when).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def line(self) -> str:
        return _("Exported by: %(user)s    Export time: %(time)s") % {"user": self.who, "time": self.stamp}

    @property
    def filters_line(self) -> str:
        return _("Filters: %(filters)s") % {"filters": "；".join(self.filters) or _("none")}


def _page_text(value: str, limit: int = HEADER_FOOTER_MAX) -> str:
    """Text for Excel's page header/footer: ``&`` escaped (it starts a code there), cut to fit."""
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return value.replace("&", "&&")


def header_grid(header_rows: Sequence[Sequence[HeaderCell]], width: int) -> list[tuple[int, int, int, int, str]]:
    """Lay the header rows out like an HTML table: each cell takes the next column not covered by a cell above.
    Returns ``(row, col, last_row, last_col, text)`` in row order; rows count from 0 at the first header row
    (``len(header_rows)`` is the column header row)."""
    covered: set[tuple[int, int]] = set()
    placed = []
    for row, cells in enumerate(header_rows):
        col = 0
        for cell in cells:
            while (row, col) in covered:
                col += 1
            last_row, last_col = row + max(cell.rowspan, 1) - 1, col + max(cell.colspan, 1) - 1
            if last_col >= width or last_row > len(header_rows):
                raise ValueError(f"header cell {cell.text!s} runs past the table")
            for r in range(row, last_row + 1):
                for c in range(col, last_col + 1):
                    covered.add((r, c))
            placed.append((row, col, last_row, last_col, str(cell.text)))
            col = last_col + 1
    return placed


def write_xlsx(
    target: str | Path | IO[bytes],
    *,
    sheet_title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    watermark: Watermark,
    header_rows: Sequence[Sequence[HeaderCell]] | None = None,
    totals: dict[int, str] | None = None,
    title: str | None = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
    autofilter: bool = True,
) -> int:
    """Write a title, the watermark and filters, the header block, ``rows`` and an optional totals row.

    ``rows`` are tuples in ``columns`` order, read once as they stream; ``None`` and ``""`` leave a cell empty.
    ``totals`` maps a column index to ``"sum"`` (the column's sum, as a formula with its value) or to a label.
    ``progress(done)`` is called every ``progress_every`` rows. Returns the number of data rows written.
    """
    columns = list(columns)
    kinds = [column.kind for column in columns]
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown xlsx column kind {kind!r}")
    width = len(columns)
    title = title or sheet_title
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "tmpdir": tempfile.gettempdir(),
                                        "remove_timezone": True})
    book.set_properties({
        "title": title, "author": watermark.who, "company": "", "keywords": "；".join(watermark.filters),
        "comments": _("Exported by %(user)s at %(time)s") % {"user": watermark.who, "time": watermark.stamp}
        + "\n" + watermark.filters_line,
    })
    book.set_custom_property("exported_by", watermark.who)
    book.set_custom_property("exported_at", watermark.stamp)
    book.set_custom_property("filters", "；".join(watermark.filters)[:255] or "-")
    sheet = book.add_worksheet(sheet_title[:31])
    title_format = book.add_format({"bold": True, "font_size": 14})
    mark_format = book.add_format({"font_color": "#C00000"})
    head_format = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                   "align": "center", "valign": "vcenter"})
    cell_formats = {kind: book.add_format({"num_format": fmt}) if fmt else None
                    for kind, fmt in NUMBER_FORMATS.items()}
    total_formats = {kind: book.add_format({"bold": True, "top": 1, "bg_color": "#F2F2F2",
                                            **({"num_format": fmt} if fmt else {})})
                     for kind, fmt in NUMBER_FORMATS.items()}
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width, cell_formats["text"] if column.kind == "text" else None)
    sheet.set_header(f"&L&\"-,Bold\"{_page_text(title, 80)}&R{_page_text(watermark.line, 160)}")
    # The translation keeps Excel's codes: &P is the page number, &N the number of pages.
    page = _("Page &P of &N")
    sheet.set_footer("&L" + _page_text(watermark.filters_line, HEADER_FOOTER_MAX - len(page) - 8) + "&R" + page)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)

    sheet.write_string(0, 0, title, title_format)
    sheet.write_string(1, 0, watermark.line, mark_format)
    sheet.write_string(2, 0, watermark.filters_line)
    top = 3
    header_rows = list(header_rows or [])
    placed = header_grid(header_rows, width)
    head_row = top + len(header_rows)
    cells: dict[tuple[int, int], str] = {}
    for row, col, last_row, last_col, text in placed:
        for r in range(row, last_row + 1):
            for c in range(col, last_col + 1):
                cells[(top + r, c)] = text if (r, c) == (row, col) else ""
    for index, column in enumerate(columns):
        cells.setdefault((head_row, index), str(column.header))
    for (row, col), text in sorted(cells.items()):
        if text:
            sheet.write_string(row, col, text, head_format)
        else:
            sheet.write_blank(row, col, None, head_format)
    # Every header cell is written above, in row order. ``merge_range`` would write its blank cells row by row too,
    # flushing (in constant_memory mode) the rest of its first row, and refuses a range that starts on a flushed
    # row; so the ranges are recorded directly in the list XlsxWriter writes out as <mergeCells>.
    sheet.merge.extend([top + row, col, top + last_row, last_col] for row, col, last_row, last_col, _text in placed
                       if (row, col) != (last_row, last_col))
    sheet.repeat_rows(top, head_row)
    sheet.freeze_panes(head_row + 1, 0)

    sums: dict[int, float] = {index: 0 for index, how in (totals or {}).items() if how == "sum"}
    formats = [cell_formats[kind] for kind in kinds]
    write_string, write_number, write_blank = sheet.write_string, sheet.write_number, sheet.write_blank
    row_index = head_row
    count = 0
    for values in rows:
        row_index += 1
        for col, (kind, value) in enumerate(zip(kinds, values, strict=True)):
            if value is None or value == "":
                continue
            if kind == "text":
                write_string(row_index, col, str(value), formats[col])
            elif kind == "bool":
                write_string(row_index, col, _("Yes") if value else _("No"))
            elif kind == "date":
                if isinstance(value, datetime):
                    value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
                write_number(row_index, col, value.toordinal() - EXCEL_EPOCH, formats[col])
            elif kind == "datetime":
                sheet.write_datetime(row_index, col, timezone.localtime(value) if timezone.is_aware(value) else value,
                                     formats[col])
            else:  # int, decimal, percent
                number = float(value) if isinstance(value, Decimal) else value
                write_number(row_index, col, number, formats[col])
                if col in sums:
                    sums[col] += number
        count += 1
        if progress is not None and count % progress_every == 0:
            progress(count)
    if count and autofilter:
        sheet.autofilter(head_row, 0, row_index, width - 1)
    if totals:
        row_index += 1
        for col in range(width):
            how = totals.get(col)
            style = total_formats[kinds[col]]
            if how == "sum":
                first, last = xl_rowcol_to_cell(head_row + 1, col), xl_rowcol_to_cell(max(row_index - 1, head_row + 1), col)
                value = sums[col]
                if kinds[col] == "int":
                    value = int(value)
                if count:
                    sheet.write_formula(row_index, col, f"=SUM({first}:{last})", style, value)
                else:
                    write_number(row_index, col, 0, style)
            elif how:
                write_string(row_index, col, str(how), total_formats["text"])
            else:
                write_blank(row_index, col, None, style)
    book.close()
    return count
