"""Document scans are judged by their content, not their name, and stored under random names
(issue 10, finding 15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.registry import services
from tests.conftest import login
from tests.registry.factories import jpeg_bytes, make_veteran

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize(("name", "content"), [
    ("身份证.pdf", b"MZ\x90\x00" + b"\x00" * 60),  # a program renamed
    ("退伍证.pdf", b"<html><body><script>alert(document.cookie)</script></body></html>"),
    ("户口本.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
    ("残疾证.png", PDF),  # a real PDF named as an image
    ("立功证书.pdf", jpeg_bytes()),  # a real photo named as a PDF
])
def test_a_scan_whose_content_is_not_what_its_name_says_is_refused(client, users, tree, name, content):
    veteran = make_veteran(tree["village_a1"])
    with pytest.raises(ValidationError) as caught:
        services.attachment_add(actor=users["village_a1"], veteran=veteran, kind="other",
                                upload=SimpleUploadedFile(name, content))
    assert "file" in caught.value.message_dict
    login(client, users["village_a1"])
    response = client.post(reverse("registry:attachment_create", args=[veteran.pk]),
                           {"kind": "other", "file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert "文件内容与其扩展名不符" in " ".join(response.context["form"].errors["file"])
    assert not veteran.attachments.exists()


def test_scans_are_stored_under_random_names_and_downloaded_under_their_own(client, users, tree):
    veteran = make_veteran(tree["village_a1"], name="张伟")
    scans = {"张伟身份证.pdf": PDF, "张伟 退伍证.JPG": jpeg_bytes()}
    for name, content in scans.items():
        services.attachment_add(actor=users["village_a1"], veteran=veteran, kind="other",
                                upload=SimpleUploadedFile(name, content))
    login(client, users["village_a1"])
    for attachment in veteran.attachments.all():
        stored = Path(attachment.file.name).name
        assert re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg)", stored), stored
        assert attachment.original_name in scans
        response = client.get(reverse("registry:attachment_download", args=[veteran.pk, attachment.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == scans[attachment.original_name]
        assert "filename*=utf-8''" in response["Content-Disposition"]
