"""Permission-matrix rows of the export, the one-person PDF and the download centre (jobs of village A1's user)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.utils import timezone

from apps.core import files
from apps.core.choices import JobStatus
from apps.core.models import Job
from tests.permissions import (
    A1_OUT_OF_SCOPE,
    A1_SCOPE,
    AUTHENTICATED,
    DISTRICT,
    MANAGERS,
    REDIRECT,
    STATIONS,
    Route,
)

EXPORTERS = (DISTRICT | STATIONS | MANAGERS) - {"leader"}  # registry.export_veteran: leadership only reads
MATRIX_FILE = "jobs/out/matrix-export.xlsx"


def objects(users, tree) -> dict:
    owner = users["village_a1"]
    done = Job.objects.create(kind="registry.export", user=owner, title="甲一的导出", status=JobStatus.DONE,
                              reason="核对", finished_at=timezone.now(), result={"rows": 1, "filename": "导出.xlsx"},
                              **files.job_grants(user=owner, permissions=["registry.export_veteran"]))
    storage = done.output_file.storage
    storage.delete(MATRIX_FILE)
    done.output_file.name = storage.save(MATRIX_FILE, ContentFile(b"matrix"))
    done.save(update_fields=["output_file"])
    failed = Job.objects.create(kind="registry.export", user=owner, title="甲一失败的导出",
                                status=JobStatus.FAILED, reason="核对", error="导出失败",
                                params={"query": "", "unmasked": False})
    return {"job_done": done, "job_failed": failed}


ROUTES = [
    Route("registry:veteran_export", ok=EXPORTERS),
    # A small masked export downloads at once (the file is the 200 answer).
    Route("registry:veteran_export", "post", ok=EXPORTERS),
    # Full ID numbers without a reason: the page comes back with the error for those who may reveal.
    Route("registry:veteran_export", "post", data=lambda objs, who: {"unmasked": "on"}, ok=EXPORTERS),
    Route("registry:veteran_pdf", kwargs=lambda objs: {"pk": objs["veteran"].pk}, ok=A1_SCOPE,
          not_found=A1_OUT_OF_SCOPE),
    Route("jobs:job_list", ok=AUTHENTICATED),
    Route("jobs:job_download", kwargs=lambda objs: {"pk": objs["job_done"].pk}, ok=frozenset({"village_a1"}),
          not_found=AUTHENTICATED - {"village_a1"}),
    Route("jobs:job_retry", "post", kwargs=lambda objs: {"pk": objs["job_failed"].pk}, ok=frozenset({"village_a1"}),
          ok_status=REDIRECT, not_found=AUTHENTICATED - {"village_a1"}),
    Route("jobs:job_retry", kwargs=lambda objs: {"pk": objs["job_failed"].pk}, ok=AUTHENTICATED, ok_status=405),
]
