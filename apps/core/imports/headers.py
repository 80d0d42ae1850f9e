"""Columns and header matching: a sheet's header row is found among its first rows and its cells are matched to
the spec's columns by name or synonym (full-width forms, spaces, * and : ignored; a trailing remark in
brackets too)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .cells import as_text, clean_text, is_blank
from .problems import ImportFileError
from .reading import Row, Source

HEADER_SCAN_ROWS = 10  # the header row is looked for among the first rows of a sheet
PARENTHESIS = re.compile(r"\([^)]*\)$")


@dataclass(frozen=True)
class Column:
    """A column an import understands: its name in the template and the other names stations use.

    ``kind`` picks the parser: text (free text, kept as typed), name, ident (a number or code written as text),
    date, bool, phone, unit (an org unit in the user's area), code (a value of the choice list ``choices``
    names), or any kind the spec's writer parses itself (``Writer.parser``). ``options`` are a fixed drop-down
    for the template (男, 女)."""

    key: str
    header: str
    synonyms: tuple[str, ...] = ()
    kind: str = "text"
    choices: str | None = None
    max_length: int | None = None
    required: bool = False
    options: tuple[str, ...] = ()
    emphasised: bool = False  # headed in red in the template though not always required


@dataclass(frozen=True)
class Mapped:
    """A column found in the user's sheet."""

    index: int
    column: Column
    header: str  # as written in the user's sheet


def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).strip("*:").replace("*", "").lower()


class HeaderIndex:
    """The columns of a spec by every name they go by."""

    def __init__(self, columns: Iterable[Column]):
        self.columns = tuple(columns)
        self.by_name: dict[str, Column] = {}
        for column in self.columns:
            for name in (column.header, *column.synonyms):
                self.by_name.setdefault(normalize_header(name), column)

    def match(self, text: object) -> Column | None:
        """The column a header cell names: exact (after normalisation), else without a trailing remark in
        brackets."""
        if not isinstance(text, str):
            return None
        key = normalize_header(text)
        found = self.by_name.get(key)
        if found is None and key.endswith(")"):
            found = self.by_name.get(PARENTHESIS.sub("", key))
        return found

    def find_header(self, rows: Iterator[Row]) -> tuple[list[Row], int, list[Mapped], list[str]]:
        """Read the first rows; the header is the one naming the most known columns."""
        head: list[Row] = []
        for row in rows:
            head.append(row)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        best: tuple[int, list[Mapped], list[str]] | None = None
        for number, values in head:
            mapped: list[Mapped] = []
            ignored: list[str] = []
            keys: set[str] = set()
            for index, value in enumerate(values):
                column = self.match(value)
                if column is not None and column.key not in keys:
                    keys.add(column.key)
                    mapped.append(Mapped(index, column, clean_text(str(value))))
                elif value is not None and str(value).strip():
                    ignored.append(clean_text(as_text(value)))
            if len(mapped) >= 2 and (best is None or len(mapped) > len(best[1])):
                best = (number, mapped, ignored)
        if best is None:
            return head, 0, [], []
        return head, *best

    def open_sheet(self, source: Source) -> tuple[int, str, int, list[Mapped], list[str], int, Iterator[Row]]:
        """The first visible sheet with a header row: index, name, header row, mapping, ignored headers, width of
        the rows above the data, and the data rows."""
        names = source.sheet_names()
        filled = False
        for index, name in enumerate(names):
            rows = source.rows(index)
            head, header_row, mapping, ignored = self.find_header(rows)
            if header_row:
                rest = [r for r in head if r[0] > header_row]

                def remaining(rest=rest, rows=rows) -> Iterator[Row]:
                    yield from rest
                    yield from rows

                width = max(len(values) for _number, values in head if _number <= header_row)
                return index, name, header_row, mapping, ignored, width, remaining()
            # Read on only while blank: a header below ten blank rows makes a sheet without a header, not an empty
            # one.
            filled = filled or any(not is_blank(values) for _number, values in itertools.chain(head, rows))
        required = "、".join(c.header for c in self.columns if c.required)
        if not filled:
            raise ImportFileError(_("The sheet is empty: no cell is filled in. Fill in the template (a header row "
                                    "with %(columns)s, one record per row) and import it again.")
                                  % {"columns": required})
        raise ImportFileError(_("No header row found: one of the first %(n)d rows must name the columns, including "
                                "%(columns)s.") % {"n": HEADER_SCAN_ROWS, "columns": required})
