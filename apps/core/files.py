"""Files that hold personal data: uploads (visit photos, scans, signed registers) served only through scoped
views, the files the portal generates (exports, CSV) and the rules that keep them from outliving permissions.

- ``csv_writer``: every CSV the portal writes goes through it; cells that a spreadsheet would run as a formula
  (``=``, ``+``, ``-``, ``@``, tab, CR first) are prefixed with ``'`` so that they stay text.
- ``upload_kind`` / ``random_upload_name``: an upload is judged by its content, never by its extension, and
  stored under a random name (the uploaded one often carries a person's name).
- Generated files of background jobs (``job_output_store`` / ``job_output_response``): written under random
  names, encrypted at rest with a key derived from FIELD_ENCRYPTION_KEY; each download re-checks the
  permissions and the area the file was made under (``job_grants_hold``); after GENERATED_FILES_TTL_DAYS the
  files are deleted and the job is marked expired (``generated_files_expire``, task ``core.generated_files_purge``).
"""

from __future__ import annotations

import base64
import csv
import logging
import mimetypes
import os
import struct
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import IO, TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    from .models import Job, User

logger = logging.getLogger(__name__)


def private_file_response(field) -> FileResponse:
    """Send a stored file inline, never cached by browsers or proxies; a missing file answers 404.
    The caller has already found the record through ``visible_to(user)``."""
    if not field:
        raise Http404
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- CSV ------------------------------------------------------------------------------------------

# A cell starting with one of these is run as a formula by Excel, WPS and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value as a CSV cell that a spreadsheet shows as text: a leading formula character gets a ``'``.
    Numbers stay numbers (``-3`` is data, not a formula)."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeCsvWriter:
    """``csv.writer`` with every cell passed through :func:`csv_cell`."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> SafeCsvWriter:
    """The only way the portal writes CSV (a test keeps ``csv.writer`` out of the apps)."""
    return SafeCsvWriter(out, **options)


# --- uploads --------------------------------------------------------------------------------------

IMAGE_KINDS = {"JPEG": "jpeg", "PNG": "png"}
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "pdf": ".pdf"}


def upload_kind(upload) -> str | None:
    """What an upload really is, from its content: ``"jpeg"``, ``"png"``, ``"pdf"`` or None.

    Images are opened and verified with Pillow; a PDF must carry the ``%PDF-`` header within its first
    kilobyte (where readers look for it). The file is left at its start."""
    if not upload:
        return None
    try:
        upload.seek(0)
        head = upload.read(1024)
        if b"%PDF-" in head:
            return "pdf"
        upload.seek(0)
        with Image.open(upload) as image:
            kind = IMAGE_KINDS.get(image.format or "")
            image.verify()
        return kind
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)


def random_upload_name(filename: str, kind: str | None = None) -> str:
    """A random file name keeping only the (content-derived, when known) extension."""
    extension = EXTENSIONS.get(kind or "") or os.path.splitext(filename or "")[1].lower()
    return f"{uuid.uuid4().hex}{extension}"


# --- encryption of generated files ----------------------------------------------------------------

MAGIC = b"VPENC1\n"
CHUNK_BYTES = 1024 * 1024
_FRAME = struct.Struct(">QB")  # chunk number, last-chunk flag: reordered or cut files are refused


class EncryptedFileError(Exception):
    pass


@lru_cache(maxsize=4)
def _file_fernet(key_setting: str) -> MultiFernet:
    secrets = [s.strip() for s in (key_setting or "").split(",") if s.strip()]
    if not secrets:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set (缺少 FIELD_ENCRYPTION_KEY).")
    # Derived for files only (HKDF with its own purpose), so a file key never equals the ID-number key.
    keys = [HKDF(algorithm=hashes.SHA256(), length=32, salt=b"veterans-portal", info=b"generated-files")
            .derive(secret.encode()) for secret in secrets]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in keys])


def encrypt_stream(source: IO[bytes], target: IO[bytes]) -> None:
    """Encrypt ``source`` into ``target`` chunk by chunk (memory stays flat for any size). The first key of
    FIELD_ENCRYPTION_KEY encrypts; every key decrypts, so a key can be rotated."""
    fernet = _file_fernet(settings.FIELD_ENCRYPTION_KEY)
    target.write(MAGIC)
    number = 0
    chunk = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES)
        last = not following
        target.write(fernet.encrypt(_FRAME.pack(number, last) + chunk) + b"\n")
        if last:
            return
        number, chunk = number + 1, following


def decrypt_stream(handle: IO[bytes]) -> Iterator[bytes]:
    """The plaintext of a file written by :func:`encrypt_stream`, chunk by chunk; a damaged, reordered or cut
    file raises EncryptedFileError (a download in progress then breaks off instead of ending short)."""
    fernet = _file_fernet(settings.FIELD_ENCRYPTION_KEY)
    if handle.read(len(MAGIC)) != MAGIC:
        raise EncryptedFileError("not an encrypted file")
    expected = 0
    while True:
        line = handle.readline()
        if not line:
            raise EncryptedFileError("the file ends before its last chunk")
        try:
            plain = fernet.decrypt(line.rstrip(b"\n"))
        except InvalidToken as exc:
            raise EncryptedFileError("a chunk cannot be decrypted") from exc
        number, last = _FRAME.unpack_from(plain)
        if number != expected:
            raise EncryptedFileError("chunks out of order")
        yield plain[_FRAME.size:]
        if last:
            return
        expected += 1


# --- generated files of background jobs ------------------------------------------------------------


def scope_path(user: User) -> str | None:
    """The part of the unit tree a user reads now: ``""`` the whole district, a unit's path (that unit and
    below), or None (nothing). Mirrors ``OrgUnitQuerySet.visible_to``."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.sees_whole_district:
        return ""
    if user.org_unit_id is not None and user.has_station_scope:
        return user.org_unit.path
    return None


def job_grants(*, user: User, permissions: Iterable[str], scope: str | None = None) -> dict:
    """The fields of a job that record what its file is made under: the permissions used and the area
    (the user's area now unless ``scope`` names a narrower one)."""
    return {"grant_permissions": sorted(set(permissions)),
            "grant_scope": scope_path(user) if scope is None else scope}


def job_grants_hold(user: User, job: Job) -> bool:
    """May ``user`` still have ``job``'s file? Every recorded permission is still held and the user's area
    still covers the area the file was made under. A job that recorded nothing is refused."""
    if not job.grant_permissions or job.grant_scope is None:
        return False
    if not all(user.has_perm(permission) for permission in job.grant_permissions):
        return False
    current = scope_path(user)
    return current is not None and job.grant_scope.startswith(current)


def generated_files_ttl() -> timedelta:
    return timedelta(days=max(1, settings.GENERATED_FILES_TTL_DAYS))


def job_expires_at(job: Job) -> datetime | None:
    finished = job.finished_at or job.created_at
    return finished + generated_files_ttl() if finished else None


def job_output_store(job: Job, source: IO[bytes], *, suffix: str = ".xlsx", encrypt: bool = True) -> None:
    """Put ``source`` (read from its start) in ``job.output_file`` under a random name, encrypted unless told
    otherwise; the previous file is deleted. The caller saves the job (``output_file``, ``output_encrypted``)."""
    old = job.output_file.name if job.output_file else ""
    source.seek(0)
    name = f"{uuid.uuid4().hex}{suffix}{'.enc' if encrypt else ''}"
    if encrypt:
        with tempfile.TemporaryFile() as sealed:
            encrypt_stream(source, sealed)
            sealed.seek(0)
            job.output_file.save(name, File(sealed), save=False)
    else:
        job.output_file.save(name, File(source), save=False)
    job.output_encrypted = encrypt
    if old and old != job.output_file.name:
        job.output_file.storage.delete(old)


def job_input_store(job: Job, upload: IO[bytes], *, suffix: str) -> None:
    """Keep an uploaded sheet (full ID numbers) encrypted at rest under a random name in ``job.input_file``;
    the caller saves the job. Readers that need a path take a short-lived plain copy (:func:`job_input_path`)."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    with tempfile.TemporaryFile() as sealed:
        encrypt_stream(upload, sealed)
        sealed.seek(0)
        job.input_file.save(f"{uuid.uuid4().hex}{suffix}.enc", File(sealed), save=False)


@contextmanager
def job_input_path(job: Job) -> Iterator[str]:
    """The path of a plain copy of the job's uploaded sheet, in a private temporary folder removed on exit (the
    readers open sheets by path). A sheet stored before encryption was introduced is read where it lies."""
    with job.input_file.open("rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            yield job.input_file.path
            return
        handle.seek(0)
        suffix = os.path.splitext(job.input_file.name.removesuffix(".enc"))[1]
        with tempfile.TemporaryDirectory(prefix="import-") as folder:  # mode 0700: this user only
            plain = os.path.join(folder, f"sheet{suffix}")
            with open(plain, "wb") as out:
                for chunk in decrypt_stream(handle):
                    out.write(chunk)
            yield plain


def job_output_response(job: Job, filename: str) -> StreamingHttpResponse | FileResponse:
    """The job's result file as a download (decrypted on the fly); a missing or unreadable file answers 404."""
    try:
        handle = job.output_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if not job.output_encrypted:
        return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    chunks = decrypt_stream(handle)
    try:
        first = next(chunks)  # a wrong key or a damaged file is found before the answer starts
    except (EncryptedFileError, StopIteration) as exc:
        handle.close()
        logger.error("job %s: the result file cannot be decrypted: %s", job.pk, exc)
        raise Http404 from exc

    def body() -> Iterator[bytes]:
        try:
            yield first
            yield from chunks
        finally:
            handle.close()

    response = StreamingHttpResponse(body(), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@dataclass
class ExpireResult:
    jobs: int
    files: int


def job_expire(job_id: int) -> int:
    """Delete one finished job's files and mark it expired (files deleted after the commit). Returns the
    number of files deleted; 0 when the job is running, already expired or gone."""
    from .choices import JobStatus
    from .models import Job

    with transaction.atomic():
        job = (Job.objects.select_for_update(skip_locked=True)
               .filter(pk=job_id).exclude(status__in=(JobStatus.PENDING, JobStatus.RUNNING)).first())
        if job is None:
            return 0
        names = [f.name for f in (job.input_file, job.output_file) if f]
        storage = job.output_file.storage
        job.status, job.output_file, job.input_file, job.output_encrypted = JobStatus.EXPIRED, "", "", False
        job.save(update_fields=["status", "output_file", "input_file", "output_encrypted"])

        def delete_files() -> None:
            for name in names:
                storage.delete(name)

        transaction.on_commit(delete_files)
    return len(names)


def job_is_past_ttl(job: Job, now: datetime | None = None) -> bool:
    expires = job_expires_at(job)
    return expires is not None and expires <= (now or timezone.now())


def generated_files_expire(*, now: datetime | None = None) -> ExpireResult:
    """Delete the files of jobs finished more than GENERATED_FILES_TTL_DAYS ago and mark the jobs expired.
    Safe to run twice and beside a download (row locks, skip the locked)."""
    from .choices import JobStatus
    from .models import Job

    cutoff = (now or timezone.now()) - generated_files_ttl()
    stale = (Job.objects.annotate(ended=Coalesce("finished_at", "created_at"))
             .filter(ended__lt=cutoff).exclude(status__in=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.EXPIRED))
             .filter(~Q(output_file="") | ~Q(input_file="")).values_list("pk", flat=True))
    jobs = files = 0
    for job_id in list(stale):
        deleted = job_expire(job_id)
        jobs += 1 if deleted else 0
        files += deleted
    return ExpireResult(jobs=jobs, files=files)
