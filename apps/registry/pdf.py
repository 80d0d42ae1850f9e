"""一人一档: the one-person file as a printable A4 PDF (WeasyPrint), in Chinese, with the shipped CJK font.

The font is ``static/fonts/PortalSansSC-Regular.otf`` (a GB 2312 subset of Noto Sans SC, OFL; rebuilt
by ``scripts/subset_font.py``), declared with ``@font-face`` in ``static/css/pdf.css``: the PDF never
depends on the fonts of the machine that renders it. ID numbers, the person's and the family's,
are always masked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, path2url

from apps.core.choices import AccessAction
from apps.core.models import User
from apps.core.services import access_log_record

from .models import CardEvent, Veteran

TEMPLATE = "registry/pdf/veteran.html"
FONT_FILE = "fonts/PortalSansSC-Regular.otf"
FONT_FAMILY = "Portal Sans SC"  # the family of the shipped font, as pdf.css names it
FONT_NAME = "Portal-Sans-SC"  # the name WeasyPrint gives the embedded font in the PDF

IDENTITY = ("name", "sex", "id_number_masked", "birth_date", "ethnic", "political", "education", "marital", "health",
            "hukou_type", "hukou_address", "address", "phone")
SERVICE = ("enlist_date", "enlist_place", "discharge_date", "branch", "troop_code", "re_enlisted", "military_category",
           "rank", "discharge_mode", "certificate_type", "certificate_number")
PLACEMENT = ("report_date", "placement_unit", "placement_unit_nature", "employment")


def static_dir() -> Path:
    """Where the PDF's stylesheet and font are read from (the project's static/ folder)."""
    return Path(settings.BASE_DIR) / "static"


class StaticOnlyFetcher(URLFetcher):
    """Resources may come from static/ only: no network, no other file of the server."""

    def fetch(self, url, headers=None):
        if not url.startswith(path2url(static_dir())):
            raise ValueError(f"resource outside static/ refused: {url}")
        return super().fetch(url, headers)


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _display(obj: models.Model, name: str) -> str:
    """A choice field's label, or "—" when it is blank (a blank choice may have a label such as "none")."""
    value = getattr(obj, name)
    return _show(getattr(obj, f"get_{name}_display")() if value not in ("", None) else None)


def _field_rows(obj: models.Model, names: tuple[str, ...], labels: dict | None = None) -> list[tuple[str, str]]:
    """(label, value) for each field: the model's own translated names, choices shown by their label."""
    rows = []
    for name in names:
        model_field = obj._meta.get_field(name)
        value = _display(obj, name) if model_field.choices else _show(getattr(obj, name))
        rows.append(((labels or {}).get(name) or capfirst(model_field.verbose_name), value))
    return rows


def _service_years(veteran: Veteran) -> str:
    """军龄 in whole years (six months or more count as a year)."""
    if not veteran.enlist_date or not veteran.discharge_date or veteran.discharge_date < veteran.enlist_date:
        return "—"
    months = ((veteran.discharge_date.year - veteran.enlist_date.year) * 12
              + veteran.discharge_date.month - veteran.enlist_date.month)
    years, rest = divmod(months, 12)
    return str(years + (1 if rest >= 6 else 0))


def _two_per_row(pairs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Label/value pairs laid out two to a table row (the last row padded)."""
    padded = pairs + [("", "")] * (len(pairs) % 2)
    return [padded[i:i + 2] for i in range(0, len(padded), 2)]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


def unit_full_name(veteran: Veteran) -> str:
    """The unit's path from the district down: from the snapshot when the record came through
    ``selectors.veteran_detail``, else read."""
    return getattr(veteran, "unit_full_name", None) or veteran.org_unit.full_name


def veteran_pdf_context(*, veteran: Veteran, user: User) -> dict:
    """Everything the template shows, with labels and values already in display form."""
    identity = _field_rows(veteran, IDENTITY, {"name": _("Full name"), "phone": _("Phone"),
                                               "id_number_masked": _("Citizen ID number")})
    identity += [
        (_("Responsible unit"), unit_full_name(veteran)),
        (_("Main collection category"), _show(veteran.primary_category)),
        (_("Collection categories"), "、".join(c.name for c in veteran.categories.all()) or "—"),
        (_("Tags"), "、".join(t.name for t in veteran.tags.all()) or "—"),
        (_("Status"), " ".join(x for x in [veteran.get_status_display(), _show(veteran.status_date)
                                           if veteran.status_date else "", veteran.status_reason] if x)),
    ]
    service = _field_rows(veteran, SERVICE)
    service.insert(3, (_("Years of service"), _service_years(veteran)))

    care = Table([_("Care category"), _("Disability grade"), _("Disability nature"), _("Benefit"),
                  _("Amount per month (yuan)"), _("Support"), _("Period")])
    for item in veteran.care.select_related("category", "benefit").order_by("id"):
        care.rows.append([
            _show(item.category), _show(item.disability_grade), _display(item, "disability_nature"),
            _show(item.benefit), _show(item.monthly_amount), _display(item, "support_mode"),
            f"{_show(item.start_date)} ~ {_show(item.end_date)}" if item.start_date or item.end_date else "—",
        ])

    family = Table([_("Relation"), _("Full name"), _("ID number"), _("Phone"), _("Work unit"), _("Health"),
                    _("Serving in the forces")])
    for member in veteran.family.select_related("relation", "health", "military_category", "rank").order_by("id"):
        serving = "—"
        if member.is_active_duty:
            serving = " ".join(x for x in [member.troop_location, _show(member.military_category) if
                                           member.military_category else "", member.rank.name if member.rank else ""]
                               if x) or _("Yes")
        family.rows.append([_show(member.relation), member.name, _show(member.id_number_masked), _show(member.phone),
                            _show(member.work_unit), _show(member.health), serving])

    cards = []
    events = CardEvent.objects.filter(card__veteran=veteran).order_by("date", "id")
    by_card: dict[int, list[CardEvent]] = {}
    for event in events:
        by_card.setdefault(event.card_id, []).append(event)
    for card in veteran.cards.order_by("id"):
        cards.append({
            "rows": _two_per_row([(_("Card type"), card.get_card_type_display()),
                                  (_("Card number"), _show(card.number)), (_("Status"), card.get_status_display()),
                                  (_("Issued on"), _show(card.issued_on))]),
            "events": [f"{_show(e.date)} {e.get_kind_display()}{'：' + e.note if e.note else ''}"
                       for e in by_card.get(card.pk, [])],
        })

    transfers = Table([_("Date"), _("Direction"), _("Moved from"), _("Moved to"), _("Reason")])
    for transfer in veteran.transfers.select_related("from_unit", "to_unit").order_by("date", "id"):
        transfers.rows.append([
            _show(transfer.date), transfer.get_direction_display(), _show(transfer.from_unit),
            _show(transfer.to_unit) if transfer.to_unit else _show(transfer.destination), _show(transfer.reason),
        ])

    now = timezone.localtime()
    who = f"{user.real_name or user.username}（{user.username}）"
    return {
        "veteran": veteran,
        "unit_full_name": unit_full_name(veteran),
        "title": _("One-person file of a veteran"),
        "printed_by": _("Printed by: %(user)s    Print time: %(time)s") % {
            "user": who, "time": now.strftime("%Y-%m-%d %H:%M")},
        "sections": [
            {"title": _("Basic information"), "pairs": _two_per_row(identity)},
            {"title": _("Military service"), "pairs": _two_per_row(service)},
            {"title": _("Placement"), "pairs": _two_per_row(_field_rows(veteran, PLACEMENT))},
            {"title": _("Priority care"), "table": care},
            {"title": _("Family members"), "table": family},
            {"title": _("Preferential treatment card"), "cards": cards},
            {"title": _("Transfers"), "table": transfers},
        ],
        "notes": veteran.notes,
        "empty": _("None recorded"),
    }


def render_pdf(html: str) -> bytes:
    fonts = FontConfiguration()
    document = HTML(string=html, base_url=str(static_dir()) + "/", url_fetcher=StaticOnlyFetcher(allowed_protocols=["file"]))
    return document.write_pdf(font_config=fonts)


def veteran_pdf(*, actor: User, veteran: Veteran, request=None) -> bytes:
    """The PDF of a record the actor may see (the caller fetched it through ``veteran_detail``); logged as printed."""
    html = render_to_string(TEMPLATE, veteran_pdf_context(veteran=veteran, user=actor))
    pdf = render_pdf(html)
    access_log_record(user=actor, action=AccessAction.PRINT, obj=veteran, request=request,
                      detail={"document": "one-person file", "bytes": len(pdf)})
    return pdf


def veteran_pdf_filename(veteran: Veteran) -> str:
    return f"{_('One-person file')}_{veteran.name}_{veteran.pk}.pdf"
