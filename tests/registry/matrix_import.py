"""Permission-matrix rows of the import pages. The job belongs to village A1's station user; another user's
import answers 404, a user without ``registry.import_veteran`` gets 403."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.registry import importing
from tests.permissions import DISTRICT, MANAGERS, REDIRECT, STATIONS, Route
from tests.registry.factories import id_number

IMPORTERS = (DISTRICT | STATIONS | MANAGERS) - {"leader"}  # leadership only reads
OWNER = frozenset({"village_a1"})


def sheet() -> SimpleUploadedFile:
    """One good row and one bad row (unknown 民族), as a small CSV."""
    text = ("姓名,公民身份号码,民族,人员类别\r\n"
            f"甲一导入,{id_number('19790101')},汉族,退役士兵\r\n"
            f"甲一错行,{id_number('19790202')},汉人,退役士兵\r\n")
    return SimpleUploadedFile("甲一花名册.csv", text.encode("utf-8"), "text/csv")


def objects(users, tree) -> dict:
    job = importing.import_job_create(actor=users["village_a1"], upload=sheet(), unit=tree["village_a1"])
    importing.import_job_dispatch(job)
    job.refresh_from_db()
    assert job.output_file, job.error
    return {"import_job": job}


def job_pk(objs):
    return {"pk": objs["import_job"].pk}


ROUTES = [
    Route("registry:import_upload", ok=IMPORTERS),
    # A small sheet is checked at once; the user lands on the preview.
    Route("registry:import_upload", "post", data=lambda objs, who: {"file": sheet()}, ok=IMPORTERS,
          ok_status=REDIRECT),
    Route("registry:import_template", ok=IMPORTERS),
    Route("registry:import_detail", kwargs=job_pk, ok=OWNER, not_found=IMPORTERS - OWNER),
    Route("registry:import_progress", kwargs=job_pk, ok=OWNER, not_found=IMPORTERS - OWNER),
    Route("registry:import_errors", kwargs=job_pk, ok=OWNER, not_found=IMPORTERS - OWNER),
    Route("registry:import_confirm", "post", kwargs=job_pk, ok=OWNER, ok_status=REDIRECT,
          not_found=IMPORTERS - OWNER),
]
