"""The import engine: an app's import is an ``ImportSpec`` (columns with synonyms and parsers, the natural key,
row checks and the write, in a ``Writer``), run by ``run_import``.

Rows are streamed from the sheet, converted and checked in Python, and handed to the writer in chunks (so that
existing records, code tables and units are looked up in bulk per chunk, never per row). With ``commit`` every
chunk is written inside one transaction, committed only after the last row is checked, under a pghistory
context naming the user, the job and the file: an interrupted import leaves nothing and running it again
upserts again. With ``atomic`` nothing is written when any row is bad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pghistory
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import Job, OrgUnit, User

from .cells import (
    FOOTER,
    FREE_TEXT_KINDS,
    as_text,
    clean_text,
    is_blank,
    is_numbering_row,
    memo,
    parse_bool,
    parse_date,
    parse_phone,
    text_parser,
    tidy_text,
)
from .headers import Column, HeaderIndex, Mapped
from .lookups import ChoiceList, UnitLookup
from .problems import CellError, ImportFileError, ImportReport, Problem
from .reading import Source
from .writing import fast_history_triggers
from .xlsx_stream import FORMULA_WITHOUT_VALUE, formula_without_value

CHUNK = 2000  # rows checked and written together: one look-up of existing records, one bulk insert


@dataclass
class ParsedRow:
    """A data row converted: values by column key, its problems, its natural key (set by the writer's checks)
    and whatever else the writer keeps for it."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    key: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class Writer:
    """One import's row checks and writes; a spec subclasses it. ``run`` gives the import's context: actor,
    target unit, units, choice lists, report, ``commit``."""

    def __init__(self, run: ImportRun):
        self.run = run

    def choice_lists(self) -> dict[str, ChoiceList]:
        """The choice lists the spec's ``code`` columns name (``Column.choices``), loaded once per import."""
        return {}

    def parser(self, mapped: Mapped) -> Callable[[Any], Any] | None:
        """A parser for a column kind of the spec's own; None: the framework's parser for the kind."""
        return None

    def check_row(self, row: ParsedRow) -> None:
        """Cross-column checks of one row (no database); set ``row.key`` when the key is usable."""
        row.key = row.values.get(self.run.spec.key)

    def duplicate(self, first: int) -> str:
        header = self.run.spec.column(self.run.spec.key).header
        return _("The same %(column)s as row %(row)d.") % {"column": header, "row": first}

    def existing(self, keys: list[Any]) -> dict[Any, Any]:
        """The stored records of ``keys`` (locked for update when committing), by key."""
        return {}

    def plan_create(self, row: ParsedRow) -> Any:
        """What to insert for a new row; may add problems to the row."""
        return row.values

    def plan_update(self, row: ParsedRow, record: Any) -> Any | None:
        """The stored record with the row applied, None when nothing changes; may add problems to the row."""
        return None

    def write(self, new: list[tuple[ParsedRow, Any]], changed: list[tuple[ParsedRow, Any]],
              touched: list[tuple[ParsedRow, Any]]) -> None:
        """Write a chunk: ``new`` rows with their plans, ``changed`` records, every existing record ``touched``."""
        raise NotImplementedError

    def committed(self) -> None:
        """Inside the transaction, after the last write (e.g. tell other apps what changed, on commit)."""

    def integrity_error(self, exc: IntegrityError) -> ImportFileError | None:
        """A unique violation the user can act on (someone registered the same record meanwhile), else None."""
        return None


class ImportSpec:
    """What an app imports: columns, the natural key, the column naming a row's subject (a row with neither is
    not a record: a footer, a note), the writer, the job kind (its queue and label in the download centre) and
    permission, and the template's sheet title, file name, notes and column hints."""

    def __init__(self, *, name: str, columns: tuple[Column, ...], key: str, writer: type[Writer],
                 job_kind: str, permission: str, subject: str | None = None, job_queue: str | None = "imports",
                 job_label: object = "", template_sheet: str = "",
                 template_file_name: Callable[[], str] | None = None, template_notes: Callable[[], list[str]] = list,
                 column_hint: Callable[[Column], str] | None = None):
        self.name = name
        self.columns = columns
        self.key = key
        self.subject = subject
        self.job_queue = job_queue
        self.job_label = job_label or name
        self.writer = writer
        self.job_kind = job_kind
        self.permission = permission
        self.template_sheet = template_sheet or name
        self.template_file_name = template_file_name or (lambda: f"{name}.xlsx")
        self.template_notes = template_notes
        self.column_hint = column_hint
        self.index = HeaderIndex(columns)
        self.by_key = {column.key: column for column in columns}

    def column(self, key: str) -> Column:
        return self.by_key[key]


class ImportRun:
    """One import under way: converts and checks rows, hands chunks to the writer."""

    def __init__(self, *, spec: ImportSpec, actor: User | None, unit: OrgUnit, mapping: list[Mapped],
                 report: ImportReport, commit: bool, atomic: bool, date1904: bool = False):
        self.spec = spec
        self.actor = actor
        self.unit = unit
        self.mapping = mapping
        self.report = report
        self.commit = commit
        self.atomic = atomic
        self.date1904 = date1904
        self.today: date = timezone.localdate()
        self.units = UnitLookup(actor=actor, unit=unit)
        self.seen: dict[Any, int] = {}
        self.header_of = {m.column.key: m for m in mapping}
        self.writer = spec.writer(self)
        self.choices = self.writer.choice_lists()
        self.converters = {m.column.key: self._converter(m) for m in mapping}

    def _converter(self, mapped: Mapped) -> Callable[[Any], Any]:
        own = self.writer.parser(mapped)
        if own is not None:
            return own
        column, header = mapped.column, mapped.header
        kind = column.kind
        if kind == "date":
            return memo(lambda raw: parse_date(raw, date1904=self.date1904, today=self.today))
        if kind == "code":
            choices = self.choices.get(column.choices or "") or ChoiceList([])
            return memo(lambda raw: choices.get(raw, header))
        if kind == "unit":
            return memo(self.units.get)
        if kind == "bool":
            return memo(parse_bool)
        if kind == "phone":
            return parse_phone
        return text_parser(kind, column.max_length)

    # -- rows

    def parse(self, number: int, values: list) -> ParsedRow | None:
        """Convert and check one row on its own (no database). None for rows that carry no record."""
        key_map = self.header_of[self.spec.key]
        if ((key_map.index < len(values) and self.spec.index.match(values[key_map.index]) is not None)
                or is_numbering_row(values)):
            self.report.skipped += 1  # a repeated header, or the row of column numbers official forms have
            return None
        row = ParsedRow(number)
        width = len(values)
        formulas = False
        for mapped in self.mapping:
            raw = values[mapped.index] if mapped.index < width else None
            if raw is None:
                continue
            if raw is FORMULA_WITHOUT_VALUE:
                row.problems.append(Problem(number, mapped.header, formula_without_value(), mapped.index))
                formulas = True
                continue
            if isinstance(raw, str):
                raw = tidy_text(raw) if mapped.column.kind in FREE_TEXT_KINDS else clean_text(raw)
                if not raw:
                    continue
            try:
                row.values[mapped.column.key] = self.converters[mapped.column.key](raw)
            except CellError as exc:
                row.problems.append(Problem(number, mapped.header, str(exc), mapped.index))
        key_failed = any(p.col_index == key_map.index for p in row.problems)
        subject = self.spec.subject
        if self.spec.key not in row.values and not key_failed and not formulas and (
                subject is None or subject not in row.values or self._is_filler(values)):
            self.report.skipped += 1
            return None
        for column in self.spec.columns:
            if column.required and column.key not in row.values and not self.failed(row, column.key):
                self.problem(row, column.key, _("Required."))
        self.writer.check_row(row)
        return row

    @staticmethod
    def _is_filler(values: list) -> bool:
        """A footer (填表人…, 合计): not a record."""
        texts = [clean_text(as_text(v)) for v in values if v is not None and as_text(v).strip()]
        return len(texts) <= 3 and any(FOOTER.match(t) for t in texts)

    def problem(self, row: ParsedRow, key: str, reason: str) -> None:
        """A problem of ``row`` in the column ``key`` (named as in the user's sheet, or as in the template)."""
        mapped = self.header_of.get(key)
        column = mapped.header if mapped else self.spec.column(key).header
        row.problems.append(Problem(row.number, column, reason, mapped.index if mapped else None))

    def failed(self, row: ParsedRow, key: str) -> bool:
        """Whether the column ``key`` of ``row`` already has a problem."""
        mapped = self.header_of.get(key)
        return mapped is not None and any(p.col_index == mapped.index for p in row.problems)

    # -- chunks

    def flush(self, chunk: list[ParsedRow]) -> None:
        """Duplicates, existing records and the writer's plans for a chunk of rows; then write it when
        committing."""
        if not chunk:
            return
        report, writer = self.report, self.writer
        keys = [r.key for r in chunk if r.key is not None]
        existing = writer.existing(keys) if keys else {}
        new: list[tuple[ParsedRow, Any]] = []
        changed: list[tuple[ParsedRow, Any]] = []
        touched: list[tuple[ParsedRow, Any]] = []
        key_column = self.header_of[self.spec.key]
        for row in chunk:
            if row.key is not None:
                first = self.seen.get(row.key)
                if first is not None:
                    row.problems.append(Problem(row.number, key_column.header, writer.duplicate(first),
                                                key_column.index))
                else:
                    self.seen[row.key] = row.number
            record = existing.get(row.key) if row.key is not None else None
            if record is not None:
                plan = writer.plan_update(row, record)
            elif row.key is not None:
                plan = writer.plan_create(row)
            else:
                plan = None
            report.rows += 1
            if row.problems:
                report.problems.extend(row.problems)
                report.bad_rows.add(row.number)
                continue
            report.valid += 1
            if record is None:
                report.created += 1
                new.append((row, plan))
            else:
                report.updated += 1
                if plan is None:
                    report.unchanged += 1
                else:
                    changed.append((row, plan))
                touched.append((row, record))
        if self.commit and not (self.atomic and report.bad_rows):
            writer.write(new, changed, touched)


class _RollBack(Exception):
    """All or nothing: a row is bad, undo the writes of this import."""


def run_import(spec: ImportSpec, *, actor: User | None, path: str | Path, unit: OrgUnit, commit: bool = False,
               atomic: bool = False, file_name: str = "", job: Job | None = None,
               progress: Callable[[int], None] | None = None,
               on_committed: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Check every row of the sheet at ``path`` against ``spec`` and, with ``commit``, write the valid ones.

    ``unit`` is the default unit (rows may name units below it). ``actor`` None (a command) scopes the import to
    ``unit``'s subtree. With ``atomic`` nothing is written when any row is bad. The write is one transaction
    (committed only after the last row is checked); ``on_committed`` runs inside it, so a job's result is saved
    together with the records or not at all.
    """
    if actor is not None and not OrgUnit.objects.visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("The unit %(unit)s is outside your area.") % {"unit": unit.name})
    source = Source(path, file_name)
    try:
        index, sheet, header_row, mapping, ignored, width, rows = spec.index.open_sheet(source)
        keys = {m.column.key for m in mapping}
        missing = [c.header for c in spec.columns if c.required and c.key not in keys]
        if missing:
            raise ImportFileError(_("Required columns are missing: %(columns)s.") % {"columns": "、".join(missing)})
        report = ImportReport(file_name=source.name, format=source.format, sheet=sheet, sheet_index=index,
                              header_row=header_row, columns=[m.header for m in mapping], ignored_columns=ignored,
                              atomic=atomic, reason_column=width)
        run = ImportRun(spec=spec, actor=actor, unit=unit, mapping=mapping, report=report, commit=commit,
                        atomic=atomic, date1904=source.date1904)

        def read() -> None:
            chunk: list[ParsedRow] = []
            size = CHUNK
            for number, values in rows:
                report.reason_column = max(report.reason_column, len(values))
                if is_blank(values):
                    continue
                row = run.parse(number, values)
                if row is not None:
                    chunk.append(row)
                if len(chunk) >= size:
                    run.flush(chunk)
                    chunk = []
                    if progress is not None:
                        progress(number)
            run.flush(chunk)
            if report.rows == 0:
                raise ImportFileError(_("The sheet has no data rows under the header."))

        if not commit:
            read()
            return report
        metadata = {"import_job": job.pk if job is not None else None, "import_file": source.name}
        if actor is not None:
            metadata["user"] = actor.pk
        with transaction.atomic():
            try:
                with transaction.atomic(), pghistory.context(**metadata):
                    fast_history_triggers()
                    read()
                    if atomic and report.errors:
                        raise _RollBack
            except _RollBack:
                report.rolled_back = True
                report.created = report.updated = report.unchanged = 0
            except IntegrityError as exc:
                meanwhile = run.writer.integrity_error(exc)
                if meanwhile is None:
                    raise
                raise meanwhile from exc
            report.committed = not report.rolled_back
            if report.committed:
                run.writer.committed()
            if on_committed is not None:
                on_committed(report)
        return report
    finally:
        source.close()
