"""The monthly liaison summary as an xlsx workbook: one sheet, a block per street with its departments and
a totals row, and the district total at the end."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext as _

from .selectors import MonthSummary, Tally


def _numbers(tally: Tally) -> list:
    percent = tally.on_time_percent
    return [tally.total, tally.planned, tally.in_progress, tally.done, tally.overdue,
            "" if percent is None else percent / 100]


def summary_workbook(summary: MonthSummary) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(_("Liaison summary"))
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#EEF0F3", "border": 1, "align": "center"})
    cell = book.add_format({"border": 1})
    percent = book.add_format({"border": 1, "num_format": "0%"})
    total = book.add_format({"bold": True, "border": 1, "bg_color": "#F7F7F7"})
    total_percent = book.add_format({"bold": True, "border": 1, "bg_color": "#F7F7F7", "num_format": "0%"})
    headers = [_("Street/town"), _("Bureau department"), _("Items"), _("Planned"), _("In progress"), _("Done"),
               _("Overdue"), _("Done on time")]
    sheet.merge_range(0, 0, 0, len(headers) - 1,
                      _("Bureau-to-street liaison, %(month)s") % {"month": f"{summary.month:%Y-%m}"}, title)
    sheet.write_row(2, 0, headers, head)
    row = 3
    for block in summary.streets:
        for line in block.rows:
            sheet.write_row(row, 0, [block.street.name, line.pairing.department], cell)
            for col, value in enumerate(_numbers(line.tally), start=2):
                sheet.write(row, col, value, percent if col == 7 else cell)
            row += 1
        sheet.write_row(row, 0, [block.street.name, _("Street total")], total)
        for col, value in enumerate(_numbers(block.tally), start=2):
            sheet.write(row, col, value, total_percent if col == 7 else total)
        row += 1
    sheet.write_row(row, 0, [_("District total"), ""], total)
    for col, value in enumerate(_numbers(summary.tally), start=2):
        sheet.write(row, col, value, total_percent if col == 7 else total)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 7, 11)
    book.close()
    return out.getvalue()
