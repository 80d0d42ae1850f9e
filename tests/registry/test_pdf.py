"""一人一档 PDF: Chinese text that pdftotext gives back, the shipped font embedded, scope, access log."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from fontTools.ttLib import TTFont

from apps.core.choices import AccessAction
from apps.core.models import AccessLog
from apps.registry import crypto, pdf, services
from apps.registry.choices import CardEventKind, CardType, DisabilityNature
from apps.registry.models import CareEntitlement, Code, PreferentialCard
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran

SECTION_TITLES = ["One-person file of a veteran", "Basic information", "Military service", "Placement",
                  "Priority care", "Family members", "Preferential treatment card", "Transfers"]


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} (poppler-utils) must be installed under CI=true")
        pytest.skip(f"{tool} is not installed (apt-get install poppler-utils)")
    return path


def pdftotext(content: bytes, tmp_path: Path) -> str:
    source = tmp_path / "file.pdf"
    source.write_bytes(content)
    return subprocess.run([poppler("pdftotext"), "-layout", str(source), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdffonts(content: bytes, tmp_path: Path) -> list[dict]:
    """Rows of ``pdffonts``: name, type, encoding, emb, sub, uni."""
    source = tmp_path / "fonts.pdf"
    source.write_bytes(content)
    out = subprocess.run([poppler("pdffonts"), str(source)], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type [type…] encoding emb sub uni object-id generation
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


@pytest.fixture
def person(tree, users):
    code = lambda kind, name: Code.objects.get(kind=kind, name=name)  # noqa: E731
    veteran = make_veteran(
        tree["village_a1"], name="赵卫国", id_number=id_number("19580816", area="110101", sequence=35),
        phone="13812345678", address="甲一社区幸福路8号", hukou_address="甲一社区幸福路8号",
        enlist_date=date(1976, 3, 1), discharge_date=date(1982, 10, 1), enlist_place="北京",
        branch=code("branch", "陆军"), troop_code="35101部队", placement_unit="区民政局",
        discharge_mode=Code.objects.filter(kind="discharge_mode").first(),
        notes="老党员，行动不便，需上门服务。",
    )
    CareEntitlement.objects.create(
        veteran=veteran, category=Code.objects.filter(kind="care_category", name="残疾军人").first(),
        disability_grade=6, disability_nature=DisabilityNature.WAR,
        benefit=Code.objects.filter(kind="benefit").first(), monthly_amount=Decimal("2350.00"),
    )
    services.family_member_save(actor=None, veteran=veteran, name="赵小红", id_number=id_number("19850505", sequence=46),
                                relation=Code.objects.filter(kind="relation").first(), work_unit="区第一小学")
    card = PreferentialCard.objects.create(veteran=veteran, card_type=CardType.VETERAN)
    services.card_event_record(actor=users["village_a1"], card=card, kind=CardEventKind.APPLY, on=date(2020, 5, 1))
    services.card_event_record(actor=users["village_a1"], card=card, kind=CardEventKind.ISSUE, on=date(2020, 8, 1),
                               number="YDZ110101000035")
    services.veteran_transfer(actor=users["street_a"], veteran=veteran, to_unit=tree["village_a2"],
                              on=date(2021, 1, 15), reason="户籍迁移")
    veteran.refresh_from_db()
    return veteran


def test_the_pdf_has_the_chinese_text_and_masks_ids(client, users, person, tmp_path):
    login(client, users["street_a"])
    response = client.get(reverse("registry:veteran_pdf", args=[person.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdftotext(response.content, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "赵卫国" in flat
    with translation.override("zh-hans"):
        for title in SECTION_TITLES:
            assert re.sub(r"\s+", "", _(title)) in flat, title
    for shown in ["赵小红", "区第一小学", "陆军", "35101部队", "YDZ110101000035", "户籍迁移", "甲一社区", "甲二村",
                  "13812345678", "2350.00", "老党员，行动不便，需上门服务。", person.id_number_masked,
                  users["street_a"].username]:
        assert shown in flat, shown
    assert person.id_number not in flat
    member = person.family.get()
    assert member.id_number_masked in flat and crypto.decrypt(member.id_number_encrypted) not in flat


def test_the_embedded_font_is_the_shipped_subset(users, person, tmp_path):
    content = pdf.veteran_pdf(actor=users["bureau"], veteran=person)
    fonts = pdffonts(content, tmp_path)
    assert fonts, "no font in the PDF"
    names = {row["name"].split("+", 1)[-1] for row in fonts}
    assert names == {pdf.FONT_NAME}, names  # no system font (the machine may have Noto CJK) was used
    assert all(row["emb"] == "yes" and row["sub"] == "yes" and row["uni"] == "yes" for row in fonts)
    shipped = Path(settings.BASE_DIR) / "static" / pdf.FONT_FILE
    font = TTFont(shipped)
    assert font["name"].getDebugName(1) == pdf.FONT_FAMILY
    assert pdf.FONT_FAMILY in (Path(settings.BASE_DIR) / "static" / "css" / "pdf.css").read_text()
    assert 6763 <= len(font.getBestCmap()) < 10000  # GB 2312 hanzi plus punctuation, not the whole font
    assert shipped.stat().st_size < 3_000_000
    assert (shipped.parent / "OFL.txt").read_text().count("SIL Open Font License") >= 1


def test_each_pdf_is_logged_as_printed(client, users, person):
    login(client, users["village_a2"])  # the record was transferred to village A2
    assert client.get(reverse("registry:veteran_pdf", args=[person.pk]), {"download": "1"}).status_code == 200
    entry = AccessLog.objects.get(action=AccessAction.PRINT)
    assert entry.user == users["village_a2"]
    assert entry.object_id == str(person.pk) and entry.object_repr == "赵卫国"


def test_out_of_scope_answers_404_and_logs_nothing(client, users, person):
    for who in ("village_a1", "street_b", "village_b1"):  # A1 handed the record to A2
        login(client, users[who])
        assert client.get(reverse("registry:veteran_pdf", args=[person.pk])).status_code == 404, who
    login(client, users["enterprise"])
    assert client.get(reverse("registry:veteran_pdf", args=[person.pk])).status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.PRINT).exists()


def test_a_bare_record_prints_too(client, users, tree, tmp_path):
    veteran = make_veteran(tree["village_b1"], name="钱一")
    login(client, users["leader"])
    response = client.get(reverse("registry:veteran_pdf", args=[veteran.pk]))
    assert response.status_code == 200
    flat = re.sub(r"\s+", "", pdftotext(response.content, tmp_path))
    assert "钱一" in flat
    with translation.override("zh-hans"):
        assert re.sub(r"\s+", "", _("None recorded")) in flat


def test_the_pdf_fetches_nothing_outside_static(users, tree):
    from weasyprint import HTML

    html = '<html><body><img src="file:///etc/hostname"><link rel="stylesheet" href="http://example.com/x.css">' \
           "<p>测试</p></body></html>"
    fetcher = pdf.StaticOnlyFetcher(allowed_protocols=["file"])
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/hostname")
    with pytest.raises(ValueError):
        fetcher.fetch("http://example.com/x.css")
    assert HTML(string=html, base_url=str(pdf.static_dir()) + "/", url_fetcher=fetcher).write_pdf().startswith(b"%PDF")

