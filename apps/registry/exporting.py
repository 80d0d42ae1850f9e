"""Export of the veteran list to xlsx: what the user's filters show, scoped, masked, watermarked, logged.

The rows come from the same FilterSet as the list page (``selectors.veteran_filterset``) and stream
from a server-side cursor as flat tuples (``values_list`` with ``org_unit__name``-style look-ups,
no model instances) into core's xlsx writer (``apps.core.exports.xlsx``), which flushes each row to disk as
it is written, so memory stays flat however many rows there are.

Small masked exports are written while the user waits; larger ones, and every export of full ID
numbers, need a reason and run as a background job of kind ``registry.export`` (``export_job_run``, registered
in ``apps/registry/jobs.py``) whose result lands in the user's download centre.
"""

from __future__ import annotations

import logging
import tempfile
from array import array
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import files, jobs
from apps.core.choices import AccessAction
from apps.core.exports import xlsx
from apps.core.models import AccessLog, Job, User
from apps.core.services import access_log_record, client_ip

from . import crypto
from .choices import Sex, VeteranStatus
from .filters import IdSearch, VeteranFilterSet
from .models import ExportedVeteran
from .selectors import veteran_filterset

logger = logging.getLogger(__name__)

EXPORT_PERMISSION = "registry.export_veteran"
REVEAL_PERMISSION = "registry.reveal_id_number"
JOB_KIND = "registry.export"  # registered in apps/registry/jobs.py; the download centre re-runs jobs by it
CHUNK_SIZE = 5000
PROGRESS_EVERY = 2000
# Query parameters that only page the list; the export ignores them.
PAGING_PARAMS = ("after", "before", "page", "cursor")


def sync_max_rows() -> int:
    """Exports above this many rows need a reason and run in the background."""
    return int(getattr(settings, "REGISTRY_EXPORT_SYNC_MAX_ROWS", 5000))


@dataclass(frozen=True)
class Column:
    """A column of the export, as core's xlsx writer takes it (``header``, ``kind``, ``width``)."""

    header: object  # lazy translation
    lookup: str
    kind: str = "text"  # an xlsx writer kind: text | date
    width: int = 12
    labels: dict | None = None  # stored code → shown label (choices)


ID_LOOKUP = "id_number_masked"  # the full number (decrypted) instead, in an export of full ID numbers

COLUMNS: tuple[Column, ...] = (
    Column(gettext_lazy("Full name"), "name", width=10),
    Column(gettext_lazy("Sex"), "sex", width=6, labels=dict(Sex.choices)),
    Column(gettext_lazy("Birth date"), "birth_date", "date", 11),
    Column(gettext_lazy("Citizen ID number"), ID_LOOKUP, width=21),
    Column(gettext_lazy("Phone"), "phone", width=14),
    Column(gettext_lazy("Ethnic group"), "ethnic__name", width=8),
    Column(gettext_lazy("Political status"), "political__name", width=10),
    Column(gettext_lazy("Unit"), "org_unit__name", width=16),
    Column(gettext_lazy("Person category"), "primary_category__name", width=16),
    Column(gettext_lazy("Service branch"), "branch__name", width=10),
    Column(gettext_lazy("Discharge mode"), "discharge_mode__name", width=14),
    Column(gettext_lazy("Enlistment date"), "enlist_date", "date", 11),
    Column(gettext_lazy("Discharge date"), "discharge_date", "date", 11),
    Column(gettext_lazy("Residential address"), "address", width=28),
    Column(gettext_lazy("Status"), "status", width=8, labels=dict(VeteranStatus.choices)),
)


def export_params(params) -> QueryDict:
    """The filter parameters of a request (paging and form fields dropped), as a fresh QueryDict. ``idt``, the token of
    a search by full ID number, is kept for the export page's form; the search itself is resolved from the session
    by the view and passed as ``id_search``."""
    query = QueryDict(mutable=True)
    pairs = params.lists() if hasattr(params, "lists") else (
        (k, v if isinstance(v, list | tuple) else [v]) for k, v in (params or {}).items())
    for key, values in pairs:
        if (key in VeteranFilterSet.base_filters or key == "idt") and key not in PAGING_PARAMS:
            query.setlist(key, [str(v) for v in values if v not in ("", None)])
    return query


def describe_filters(filterset: VeteranFilterSet) -> list[str]:
    """``label：value`` for each filter in use, for the file's header and the access log."""
    if not filterset.is_bound or not filterset.form.is_valid():
        return []
    parts = []
    if filterset.id_search is not None:
        parts.append(f"{_('ID number')}：{filterset.id_search.masked or '—'}")
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", [], ()) or name == "ordering":
            continue
        field = filterset.form.fields[name]
        shown = dict(field.choices).get(value, value) if hasattr(field, "choices") and isinstance(value, str) else value
        parts.append(f"{field.label}：{shown}")
    return parts


def count_capped(queryset, cap: int) -> tuple[int, bool]:
    """Count up to ``cap + 1`` rows: enough to decide, cheap on a million."""
    n = queryset.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


def check_export_allowed(*, user: User, unmasked: bool) -> None:
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied(_("You may not export records."))
    if unmasked and not user.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied(_("You may not export full ID numbers."))


def export_permissions(*, unmasked: bool) -> list[str]:
    """The permissions an export is made under (and re-checked at each download of its file)."""
    return ["registry.view_veteran", EXPORT_PERMISSION, *([REVEAL_PERMISSION] if unmasked else [])]


def needs_background(*, rows_over_threshold: bool, unmasked: bool) -> bool:
    return unmasked or rows_over_threshold


def check_reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": _(
            "Give the reason for this export: it has more rows than can be downloaded at once, or full ID numbers.")})
    return reason[:300]


# --- writing ----------------------------------------------------------------------------------------


def write_xlsx(
    target: str | Path | IO[bytes],
    rows: Iterable[tuple],
    *,
    user: User,
    when: datetime,
    filters: list[str],
    unmasked: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``rows`` (tuples in COLUMNS order, codes not yet labelled) with core's xlsx writer: the title, the
    watermark (sheet, page header/footer, properties) and the filters above the header. Returns the row count."""
    labelled = [(index, {key: str(label) for key, label in column.labels.items()})
                for index, column in enumerate(COLUMNS) if column.labels]

    def shown(stream: Iterable[tuple]) -> Iterable[list]:
        for row in stream:
            row = list(row)
            for index, labels in labelled:
                row[index] = labels.get(row[index], row[index])
            yield row

    title = _("Veteran list")
    return xlsx.write_xlsx(target, sheet_title=title, columns=COLUMNS, rows=shown(rows),
                           watermark=xlsx.Watermark(user, when, filters),
                           title=title + ("（" + _("full ID numbers") + "）" if unmasked else ""),
                           progress=progress, progress_every=PROGRESS_EVERY)


def _rows(queryset, *, unmasked: bool, ids: array | None = None) -> Iterable[tuple]:
    """The export's rows in COLUMNS order; with ``ids``, each row's record id is appended to it as it streams (the
    records the file really holds, for the access log)."""
    lookups = ["id_number_encrypted" if unmasked and c.lookup == ID_LOOKUP else c.lookup for c in COLUMNS]
    if ids is not None:
        stream = _collect_ids(queryset.values_list("pk", *lookups).iterator(chunk_size=CHUNK_SIZE), ids)
    else:
        stream = queryset.values_list(*lookups).iterator(chunk_size=CHUNK_SIZE)
    if not unmasked:
        return stream
    position = next(i for i, c in enumerate(COLUMNS) if c.lookup == ID_LOOKUP)
    decrypt = crypto.decrypt
    return (row[:position] + (decrypt(row[position]),) + row[position + 1:] for row in stream)


def _collect_ids(stream: Iterable[tuple], ids: array) -> Iterable[tuple]:
    append = ids.append
    for row in stream:
        append(row[0])
        yield row[1:]


def exported_records_link(*, entry: AccessLog, ids: array) -> None:
    """Name the records an export contained (``ExportedVeteran``), in one set-based statement: a 100,000-row export
    adds 100,000 two-integer rows without a round trip each."""
    if not ids:
        return
    table = ExportedVeteran._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (entry_id, veteran_id) SELECT %s, unnest(%s::bigint[]) "  # noqa: S608
                       "ON CONFLICT DO NOTHING", [entry.pk, ids.tolist()])


@dataclass
class ExportResult:
    rows: int
    filename: str
    filters: list[str]


def export_filename(when: datetime, *, unmasked: bool = False) -> str:
    stamp = timezone.localtime(when).strftime("%Y%m%d_%H%M%S")
    return f"{_('Veteran list')}{'_' + _('full ID numbers') if unmasked else ''}_{stamp}.xlsx"


def veteran_export(
    *,
    actor: User,
    params,
    target: str | Path | IO[bytes],
    unmasked: bool = False,
    reason: str = "",
    request=None,
    job: Job | None = None,
    progress: Callable[[int], None] | None = None,
    when: datetime | None = None,
    id_search: IdSearch | None = None,
) -> ExportResult:
    """Write the user's filtered, scoped list to ``target`` and record the export in the access log."""
    check_export_allowed(user=actor, unmasked=unmasked)
    when = when or timezone.now()
    filterset = veteran_filterset(user=actor, params=export_params(params), id_search=id_search)
    filters = describe_filters(filterset)
    ids = array("q")
    count = write_xlsx(target, _rows(filterset.qs, unmasked=unmasked, ids=ids), user=actor, when=when, filters=filters,
                       unmasked=unmasked, progress=progress)
    detail = {"filters": dict(export_params(params).lists()), "filters_shown": filters, "rows": count,
              "unmasked": unmasked}
    if reason:
        detail["reason"] = reason
    if job is not None:
        detail["job"] = job.pk
        detail["requested_from"] = job.params.get("requested_from")
    with transaction.atomic():
        entry = access_log_record(user=actor, action=AccessAction.EXPORT, request=request, detail=detail,
                                  object_repr=str(_("Veteran list")))
        exported_records_link(entry=entry, ids=ids)
    return ExportResult(rows=count, filename=export_filename(when, unmasked=unmasked), filters=filters)


# --- background jobs --------------------------------------------------------------------------


def export_job_start(*, actor: User, params, unmasked: bool, reason: str, request=None,
                     id_search: IdSearch | None = None) -> Job:
    """Create the job and enqueue it once the transaction commits; the result lands in the download centre."""
    check_export_allowed(user=actor, unmasked=unmasked)
    reason = check_reason(reason, required=True)
    query = export_params(params)
    filterset = veteran_filterset(user=actor, params=query, id_search=id_search)
    shown = describe_filters(filterset)
    title = _("Veteran list export")
    if shown:
        title = f"{title}（{'；'.join(shown)}）"
    # The worker has no request: keep where the export was asked from for the access log.
    job = Job.objects.create(kind=JOB_KIND, user=actor, title=title[:200], reason=reason,
                             params={"query": query.urlencode(), "unmasked": unmasked,
                                     "requested_from": client_ip(request),
                                     # the blind index and masked form of a search by ID number, never the number
                                     "id_search": list(astuple(id_search)) if id_search is not None else None})
    jobs.start(job)  # Redis down: the job fails at once with 后台服务暂不可用
    return job


def export_job_run(job: Job, progress: jobs.Progress) -> None:
    """The ``registry.export`` job: write the export into the job's (encrypted) result file. Run by
    ``core.run_job``, which claims the job and marks it done; a re-run starts from the beginning.

    A refusal or a failure raises ``JobError`` with the reason in Chinese; the user retries from the download centre.
    """
    try:
        actor = job.user
        if not actor.is_active:
            raise PermissionDenied(_("The account that started this export is disabled."))
        query = QueryDict(job.params.get("query", ""))
        unmasked = bool(job.params.get("unmasked"))
        check_export_allowed(user=actor, unmasked=unmasked)
        id_search = IdSearch(*job.params["id_search"]) if job.params.get("id_search") else None
        total = veteran_filterset(user=actor, params=export_params(query), id_search=id_search).qs.order_by().count()
        progress.update(0, total)

        with tempfile.TemporaryFile(suffix=".xlsx") as handle:
            result = veteran_export(actor=actor, params=query, target=handle, unmasked=unmasked, reason=job.reason,
                                    job=job, progress=progress.update, id_search=id_search)
            # Encrypted at rest under a random name; a download needs the same permissions and area again.
            files.job_output_store(job, handle, suffix=".xlsx")
    except PermissionDenied as exc:
        raise jobs.JobError(_("The export was refused: %(error)s") % {"error": str(exc)}) from exc
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        raise jobs.JobError(_("The export failed: %(error)s") % {"error": message or exc.__class__.__name__}) from exc
    for field, value in files.job_grants(user=actor, permissions=export_permissions(unmasked=unmasked)).items():
        setattr(job, field, value)
    progress.update(result.rows, result.rows)
    job.result = {"rows": result.rows, "filename": result.filename}
    job.save(update_fields=["result", "output_file", "output_encrypted", "grant_permissions", "grant_scope"])
