"""The hand-written streaming xlsx reader (zip + expat), kept for what python-calamine cannot do.

calamine (``reading.Source``) reads every ordinary workbook. This reader is used only for a sheet that
- spans more cells than an import reads (last row × last column, measured by a scan of the XML, whatever the
  sheet declares): calamine loads a whole sheet into one dense range before a single row is seen, so it could
  not stop at ``max_cells()``; this reader counts the cells row by row, stops there, and never keeps a cell
  right of ``MAX_COLUMNS``;
- holds formulas without a saved value (written by a program, never saved by Excel): calamine reads them as
  empty cells, so "Required." would be reported instead of the real cause; this reader marks them
  ``FORMULA_WITHOUT_VALUE``;
- holds error values (#DIV/0!, #N/A): calamine reads them as empty cells, which would silently drop the cell
  (an optional column) where this reader gives the error's text, reported as a bad value.
It also gives ``Source`` the workbook's index (visible sheets, their parts, the 1904 date system) and the
declared ranges, read from the zip without inflating the sheets. Office files never carry a DTD: one is refused.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from pyexpat import ParserCreate
from pyexpat import error as ExpatError
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _

from .cells import serial_to_datetime
from .problems import ImportFileError

Row = tuple[int, list]  # (row number as Excel shows it, cell values)

MAX_COLUMNS = 200  # cells further right are ignored (a stray mark in column XFD must not cost memory)
MAX_SHARED_STRINGS_BYTES = 300 * 1024 * 1024
MAX_PART_BYTES = 20 * 1024 * 1024  # workbook parts parsed whole in memory (workbook, relationships, styles)
# A formula not followed by a saved value (<v> with text): Excel always saves one (its empty text results are
# t="str" <v></v>, also matched: then the stream reader, which tells them apart, reads the sheet).
FORMULA_WITHOUT_SAVED_VALUE = re.compile(rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)(?!<(?:\w+:)?v>[^<])")
CELL_TAG = re.compile(rb"<(?:\w+:)?c[ >]")
ROW_NUMBER = re.compile(rb"row [^>]*?\br=\"(\d+)\"")  # matched where the chunk's last "row " is
CELL_COLUMN = re.compile(rb' r="([A-Z]{1,3})\d')  # a cell's reference (a row's is digits only)
DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
# Built-in number formats that show dates (14–22, and the CJK-locale ones 27–36 and 50–58).
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(50, 59)])


def max_cells() -> int:
    """A sheet declaring (dimension) or holding more cells than this is refused."""
    return settings.REGISTRY_IMPORT_MAX_CELLS


def damaged() -> str:
    return _("The workbook is damaged or protected by a password; save it again without a password.")


def too_many_cells(cells: int, where: str) -> ImportFileError:
    return ImportFileError(_("The sheet holds %(cells)s cells (%(where)s), more than the %(max)s an import reads. "
                             "Delete the empty rows and columns below and to the right of the data, or split the "
                             "sheet into several files.")
                           % {"cells": f"{cells:,}", "where": where, "max": f"{max_cells():,}"})

def col_index(ref: str, cache: dict[str, int] = {}) -> int:  # noqa: B006 - a deliberate memo
    """0-based column of a cell reference: "AB12" → 27."""
    letters = ref.rstrip("0123456789")
    index = cache.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + (ord(ch) - 64)
        index -= 1
        cache[letters] = index
    return index


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def no_doctype(*_args) -> None:
    raise ImportFileError(_("The workbook is damaged or protected by a password; save it again without a password."))


def parse_xml(data: bytes) -> ElementTree.Element:
    """A small workbook part. Office files never carry a DTD, so one is refused (no entity expansion at all);
    ElementTree never fetches external entities."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        no_doctype()
    return ElementTree.fromstring(data)  # noqa: S314 - DTDs refused above


def _expat() -> Any:
    parser = ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    return parser


class _FormulaWithoutValue:
    """A formula cell whose file holds no computed value: written by a program and never saved by Excel."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""

    __repr__ = __str__


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()


def formula_without_value() -> str:
    return _("The cell holds a formula without a saved value (the file was written by a program and never saved "
             "in Excel): open the file in Excel and save it, or copy the column and paste it as values.")


class XlsxStream:
    """A lean streaming reader of xlsx sheets (zip + expat), several times faster than openpyxl's
    read-only mode on large sheets. Values: str, int, float, bool, datetime (date-formatted numbers)."""

    def __init__(self, path: str | Path):
        self.zip = zipfile.ZipFile(path)
        names = set(self.zip.namelist())
        workbook = "xl/workbook.xml"
        if "_rels/.rels" in names:
            for rel in parse_xml(self._read_part("_rels/.rels")):
                if rel.get("Type", "").endswith("/officeDocument"):
                    workbook = rel.get("Target", workbook).lstrip("/")
        base = posixpath.dirname(workbook)
        rels: dict[str, tuple[str, str]] = {}
        rels_path = posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels")
        if rels_path in names:
            for rel in parse_xml(self._read_part(rels_path)):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
                rels[rel.get("Id", "")] = (rel.get("Type", ""), target)
        root = parse_xml(self._read_part(workbook))
        self.date1904 = False
        self.sheets: list[tuple[str, str]] = []  # (name, path) of visible sheets in workbook order
        for element in root.iter():
            tag = _local(element.tag)
            if tag == "workbookPr":
                self.date1904 = element.get("date1904", "0").lower() in ("1", "true")
            elif tag == "sheet" and element.get("state", "visible") == "visible":
                rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
                if rid in rels:
                    self.sheets.append((element.get("name", ""), rels[rid][1]))
        shared = next((t for kind, t in rels.values() if kind.endswith("/sharedStrings")), None)
        styles = next((t for kind, t in rels.values() if kind.endswith("/styles")), None)
        self._shared_path = shared if shared in names else None
        self._shared_strings: list[str] | None = None  # read with the first rows, not to estimate a size
        self.date_styles = self._read_date_styles(styles) if styles in names else frozenset()

    def _read_part(self, path: str) -> bytes:
        if self.zip.getinfo(path).file_size > MAX_PART_BYTES:
            raise ImportFileError(damaged())
        return self.zip.read(path)

    @property
    def shared_strings(self) -> list[str]:
        if self._shared_strings is None:
            self._shared_strings = self._read_shared_strings(self._shared_path) if self._shared_path else []
        return self._shared_strings

    def _read_shared_strings(self, path: str) -> list[str]:
        if self.zip.getinfo(path).file_size > MAX_SHARED_STRINGS_BYTES:
            raise ImportFileError(_("The file is too large to import."))
        strings: list[str] = []
        buf: list[str] = []
        state = {"collect": False, "phonetic": 0}

        def start(name, attrs):
            name = _local(name)
            if name == "si":
                buf.clear()
            elif name == "t" and not state["phonetic"]:
                state["collect"] = True
            elif name == "rPh":
                state["phonetic"] += 1

        def end(name):
            name = _local(name)
            if name == "si":
                strings.append("".join(buf))
            elif name == "t":
                state["collect"] = False
            elif name == "rPh":
                state["phonetic"] -= 1

        def chars(data):
            if state["collect"]:
                buf.append(data)

        parser = _expat()
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
        with self.zip.open(path) as handle:
            parser.ParseFile(handle)
        return strings

    def _read_date_styles(self, path: str) -> frozenset[int]:
        from openpyxl.styles.numbers import is_date_format

        root = parse_xml(self._read_part(path))
        custom: dict[int, str] = {}
        dates: set[int] = set()
        for element in root:
            tag = _local(element.tag)
            if tag == "numFmts":
                for fmt in element:
                    with contextlib.suppress(ValueError):
                        custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
            elif tag == "cellXfs":
                for index, xf in enumerate(element):
                    with contextlib.suppress(ValueError):
                        fmt_id = int(xf.get("numFmtId", "0"))
                        if fmt_id in BUILTIN_DATE_FORMATS or (fmt_id in custom and is_date_format(custom[fmt_id])):
                            dates.add(index)
        return frozenset(dates)

    def dimension(self, path: str) -> tuple[str, int, int] | None:
        """The sheet's used range as its writer declared it, <dimension ref="A1:R100001">: (ref, last row,
        columns), None when not recorded."""
        with self.zip.open(path) as handle:
            head = handle.read(4096).decode("utf-8", "ignore")
        match = re.search(r"<(?:\w+:)?dimension[^>]*ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"", head)
        if not match:
            return None
        first, last = match.group(1), match.group(3) or match.group(1)
        return (match.group(0).split('"')[1], int(match.group(4) or match.group(2)),
                col_index(last) - col_index(first) + 1)

    def dimension_rows(self, path: str) -> int | None:
        """The last row from the sheet's <dimension ref="A1:R100001">, when the writer recorded it."""
        found = self.dimension(path)
        return found[1] if found else None

    def check_declared_cells(self, path: str) -> None:
        """Refuse a sheet whose declared used range holds more cells than an import reads (columns past
        MAX_COLUMNS are never read and do not count)."""
        found = self.dimension(path)
        if found is not None:
            ref, rows, columns = found
            cells = rows * min(columns, MAX_COLUMNS)
            if cells > max_cells():
                raise too_many_cells(cells, ref)

    def needs_stream(self, path: str) -> bool:
        """Whether the sheet at ``path`` must be read by this reader rather than by calamine (see the module's
        docstring). One pass over the sheet's XML (inflated in chunks, scanned by regular expressions, several
        times faster than reading it): a formula without a saved value, or a used range (last row × last column,
        what calamine allocates) larger than ``max_cells()``, sends it here. Refuses a DTD in the sheet or its
        shared strings."""
        for part in (path, self._shared_path):
            if part:
                with self.zip.open(part) as handle:
                    if DTD.search(handle.read(4096)):
                        no_doctype()
        last_row, last_column, tail, limit = 0, 0, b"", max_cells()
        with self.zip.open(path) as handle:
            while chunk := handle.read(1 << 20):
                data = tail + chunk
                safe = len(data) - 64 if len(chunk) == 1 << 20 else len(data)  # a match at the end may go on
                if b' t="e"' in data or b" t='e'" in data:  # an error value (#DIV/0!): calamine reads a blank
                    return True
                if (b"<f" in data or b":f" in data) and any(
                        m.start() < safe for m in FORMULA_WITHOUT_SAVED_VALUE.finditer(data, max(0, len(tail) - 64))):
                    return True
                at = data.rfind(b"row ")
                number = ROW_NUMBER.match(data, at, at + 300) if at >= 0 else None
                if number:
                    last_row = max(last_row, int(number.group(1)))
                elif CELL_TAG.search(data) and not last_row:
                    return True  # rows without numbers: only reading them tells where they are
                letters = set(CELL_COLUMN.findall(data))
                if letters:
                    last_column = max(last_column, col_index(max(letters, key=lambda c: (len(c), c)).decode()) + 1)
                if last_row * last_column > limit:
                    return True  # the stream reader refuses it where it passes the limit (or reads it lean)
                tail = data[-128:]
        return False

    def count_rows(self, path: str) -> int:
        count, tail = 0, b""
        with self.zip.open(path) as handle:
            while chunk := handle.read(1 << 20):
                data = tail + chunk
                count += len(re.findall(rb"<(?:\w+:)?row[ >]", data))
                tail = data[-16:]
                count -= len(re.findall(rb"<(?:\w+:)?row[ >]", tail))
        return count

    def rows(self, path: str) -> Iterator[Row]:
        self.check_declared_cells(path)
        shared, date_styles, date1904 = self.shared_strings, self.date_styles, self.date1904
        out: list[Row] = []
        buf: list[str] = []
        cells: list = []
        limit = max_cells()
        # row number, column, type, style, collecting text, inside <is>, inside <rPh>, has a formula,
        # cells and rows read (the declared range may lie; what is read at all is bounded by check_zip)
        st = [0, 0, "n", None, False, False, False, False, 0]

        def start(name, attrs):
            if ":" in name:
                name = name.rsplit(":", 1)[1]
            if name == "c":
                ref = attrs.get("r")
                st[1] = col_index(ref) if ref else st[1] + 1
                st[2] = attrs.get("t", "n")
                st[3] = attrs.get("s")
                st[7] = False
                buf.clear()
            elif name == "v":
                st[4] = True
            elif name == "f":
                st[7] = True
            elif name == "t":
                st[4] = st[5] and not st[6]
            elif name == "row":
                number = attrs.get("r")
                st[0] = int(number) if number else st[0] + 1
                st[1] = -1
                cells.clear()
            elif name == "is":
                st[5] = True
            elif name == "rPh":
                st[6] = True

        def end(name):
            if ":" in name:
                name = name.rsplit(":", 1)[1]
            if name == "c":
                col = st[1]
                if col >= MAX_COLUMNS:
                    return
                text = "".join(buf)
                kind = st[2]
                value: Any
                if st[7] and not text and kind not in ("str", "inlineStr"):
                    # Excel saves every formula's result (an empty text result as t="str"); programs such as
                    # openpyxl write the formula alone.
                    value = FORMULA_WITHOUT_VALUE
                elif kind == "s":
                    value = shared[int(text)] if text else None
                elif kind in ("inlineStr", "str", "e"):
                    value = text
                elif kind == "b":
                    value = text in ("1", "true")
                elif kind == "d":
                    try:
                        value = datetime.fromisoformat(text)
                    except ValueError:
                        value = text
                elif not text:
                    value = None
                else:
                    try:
                        value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
                    except ValueError:
                        value = text
                    if st[3] is not None and value is not None and int(st[3]) in date_styles:
                        value = serial_to_datetime(value, date1904) or value
                if value is None or value == "":
                    return
                missing = col - len(cells)
                if missing > 0:
                    cells.extend([None] * missing)
                if col < len(cells):
                    cells[col] = value
                else:
                    cells.append(value)
            elif name == "v" or name == "t":
                st[4] = False
            elif name == "row":
                out.append((st[0], list(cells)))
                st[8] += st[1] + 2  # the row's cells as far as its last one, and the row itself
                if st[8] > limit:
                    raise too_many_cells(st[8], _("read up to row %(row)d") % {"row": st[0]})
            elif name == "is":
                st[5] = False
            elif name == "rPh":
                st[6] = False

        def chars(data):
            if st[4]:
                buf.append(data)

        parser = _expat()
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
        with self.zip.open(path) as handle:
            while True:
                try:
                    chunk = handle.read(1 << 18)
                    parser.Parse(chunk, not chunk)
                except (zipfile.BadZipFile, EOFError, zlib.error, IndexError, ExpatError) as exc:  # lying or broken
                    raise ImportFileError(damaged()) from exc
                if out:
                    yield from out
                    out.clear()
                if not chunk:
                    break

