"""The monthly liaison summary as an xlsx workbook: one sheet, a block per street with its departments and
a totals row, and the district total at the end."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exports.xlsx import Watermark, XlsxColumn, write_xlsx

from .selectors_liaison import MonthSummary, Tally


def _numbers(tally: Tally) -> list:
    percent = tally.on_time_percent
    return [tally.total, tally.planned, tally.in_progress, tally.done, tally.overdue,
            None if percent is None else percent / 100]


def summary_workbook(summary: MonthSummary, *, user=None) -> bytes:
    columns = [XlsxColumn(_("Street/town"), width=16), XlsxColumn(_("Bureau department"), width=18),
               *(XlsxColumn(header, "int", 11) for header in (_("Items"), _("Planned"), _("In progress"), _("Done"),
                                                             _("Overdue"))),
               XlsxColumn(_("Done on time"), "percent", 11)]
    rows = []
    for block in summary.streets:
        rows += [[block.street.name, line.pairing.department, *_numbers(line.tally)] for line in block.rows]
        rows.append([block.street.name, _("Street total"), *_numbers(block.tally)])
    out = io.BytesIO()
    write_xlsx(out, sheet_title=_("Liaison summary"), columns=columns, rows=rows, autofilter=False,
               title=_("Bureau-to-street liaison, %(month)s") % {"month": f"{summary.month:%Y-%m}"},
               watermark=Watermark(user, timezone.now(), [f"{_('Month')}：{summary.month:%Y-%m}"]),
               totals={0: _("District total"), **dict(enumerate(_numbers(summary.tally), start=2))})
    return out.getvalue()
