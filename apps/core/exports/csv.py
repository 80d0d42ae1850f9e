"""CSV exports: a UTF-8 (with BOM, so Excel reads the Chinese) stream through ``apps.core.files.csv_writer``,
which turns formula-leading cells (``=``, ``+``, ``-``, ``@``, tab, CR) into text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from apps.core.files import csv_writer


class _Echo:
    """A file-like object that hands back what is written, so each row is yielded as it is made."""

    def write(self, value: str) -> str:
        return value


def _cell(value):
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_lines(headers: Sequence[object], rows: Iterable[Sequence]) -> Iterator[str]:
    """The CSV text line by line: a BOM, the headers, then each row."""
    writer = csv_writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([str(header) for header in headers])
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def csv_response(filename: str, headers: Sequence[object], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A streamed CSV download."""
    response = StreamingHttpResponse(csv_lines(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, max-age=0, no-store"
    return response
