"""A campaign's progress as an xlsx workbook: one row per community/village (with its street), under a two-row
header, and a totals row whose completion rate is computed from the sums."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exports.xlsx import HeaderCell, Watermark, XlsxColumn, write_xlsx
from apps.core.models import OrgUnit, User

from .models import Campaign

RATE_COLUMN = 5


def _rate(done: int, total: int) -> float | None:
    return done / total if total else None


def campaign_workbook(campaign: Campaign, rows: list[dict], *, user: User, unit: OrgUnit | None) -> bytes:
    """The workbook of ``rows`` (``selectors.campaign_village_rows``), watermarked with the user, the time, the
    campaign and the unit exported (``None``: the whole area the user sees)."""
    columns = [XlsxColumn(_("Street/town"), width=16), XlsxColumn(_("Community/village"), width=16),
               XlsxColumn(_("Tasks"), "int", 10), XlsxColumn(_("Visited"), "int", 10),
               XlsxColumn(_("Not yet visited"), "int", 10), XlsxColumn(_("Completion"), "percent", 10),
               XlsxColumn(_("Visited late"), "int", 10), XlsxColumn(_("Condolence money (yuan)"), "decimal", 16),
               XlsxColumn(_("Goods given (items)"), "int", 14)]
    header = [[HeaderCell(_("Unit"), colspan=2), HeaderCell(_("Progress"), colspan=4),
               HeaderCell(_("Visited late"), rowspan=2), HeaderCell(_("Condolences"), colspan=2)]]
    values = [(row["street"], row["unit"].name, row["total"], row["done"], row["open"],
               _rate(row["done"], row["total"]), row["late"], row["money"], row["goods"]) for row in rows]
    total, done = sum(row["total"] for row in rows), sum(row["done"] for row in rows)
    totals = {0: _("Total"), 2: "sum", 3: "sum", 4: "sum", 6: "sum", 7: "sum", 8: "sum"}
    rate = _rate(done, total)
    if rate is not None:
        totals[RATE_COLUMN] = rate
    filters = [f"{_('Campaign')}：{campaign.name}", f"{_('Unit')}：{unit.name if unit else _('Whole area')}"]
    out = io.BytesIO()
    write_xlsx(out, sheet_title=_("Campaign progress"), columns=columns, rows=values, header_rows=header,
               totals=totals, title=campaign.name, watermark=Watermark(user, timezone.now(), filters))
    return out.getvalue()
