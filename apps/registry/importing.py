"""Veteran import (导入): read the sheets stations keep, validate every row, preview, write in one transaction.

The sheets are what stations really keep: xlsx, xls or csv; a title row (or several) above the header; Chinese
column names in any order and under several names; full-width characters and stray spaces; dates written many
ways; ID numbers typed into number cells (precision lost: an error, never "repaired").

Flow: ``import_job_create`` stores the upload on a ``core.Job``; ``import_job_run`` runs its phase, a dry run
(``preview``) or the write (``commit``), in the request for small files or in a Celery task
(job kind ``registry.import``) for large ones. ``veteran_import`` is the engine, also used by the ``import_veterans``
command: rows are streamed, validated in Python in chunks (code tables, units and existing records are looked
up in bulk per chunk, never per row) and written with bulk inserts and ``INSERT … ON CONFLICT (id_number_hash)
DO UPDATE`` inside one transaction, so an interrupted import leaves nothing and re-running it upserts again.
History is kept by the pghistory triggers, under a context naming the user and the job.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import logging
import os
import posixpath
import re
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from pyexpat import ParserCreate
from pyexpat import error as ExpatError
from typing import Any
from xml.etree import ElementTree

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core import files
from apps.core.choices import JobStatus
from apps.core.models import Job, OrgUnit, User, phone_validator

from . import crypto, hooks, idnumber
from .choices import CodeKind, HukouType, Sex
from .models import Code, Veteran
from .services import duplicate_message, name_pinyin

logger = logging.getLogger(__name__)

JOB_KIND = "registry.import"  # registered in apps/registry/jobs.py (the download centre re-runs jobs by kind)
PERMISSION = "registry.import_veteran"
CHUNK = 2000  # rows validated and written together: one look-up of existing records, one bulk insert
HEADER_SCAN_ROWS = 10  # the header row is looked for among the first rows of a sheet
MAX_COLUMNS = 200  # cells further right are ignored (a stray mark in column XFD must not cost memory)
JOB_PROBLEMS_KEPT = 1000  # bad rows listed on the job; the error workbook has them all
ANNOTATE_MAX_ROWS = 20000  # up to this size the user's own xlsx is annotated; larger ones are rewritten
MAX_SHARED_STRINGS_BYTES = 300 * 1024 * 1024
MAX_PART_BYTES = 20 * 1024 * 1024  # workbook parts parsed whole in memory (workbook, relationships, styles)
MAX_ZIP_ENTRIES = 2000  # an xlsx has a few dozen parts; a zip of millions of entries is a bomb of its own
MAX_ZIP_RATIO = 100  # a part expanding more than this many times its stored size (from 1 MB) is a bomb
ZIP_RATIO_FROM = 1024 * 1024

ERROR_FILL = "FFC7CE"
REASON_HEADER = "错误原因"


def sync_max_rows() -> int:
    """Imports with more rows than this run in the background."""
    return settings.REGISTRY_IMPORT_SYNC_MAX_ROWS


def max_upload_bytes() -> int:
    return settings.REGISTRY_IMPORT_MAX_MB * 1024 * 1024


def max_unzipped_bytes() -> int:
    """An xlsx declaring more content than this is refused before anything is read (zip bombs)."""
    return settings.REGISTRY_IMPORT_MAX_UNZIPPED_MB * 1024 * 1024


def max_cells() -> int:
    """A sheet declaring (dimension) or holding more cells than this is refused."""
    return settings.REGISTRY_IMPORT_MAX_CELLS


def sync_max_bytes() -> int:
    """Files whose content (unzipped) is larger are read in the background even when they have few rows."""
    return settings.REGISTRY_IMPORT_SYNC_MAX_MB * 1024 * 1024


class ImportFileError(Exception):
    """The file as a whole cannot be imported (format, header, missing columns); the message is for the user."""


class _CellError(Exception):
    """One cell is wrong; the message is for the user."""


# --- columns -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column the import understands: its name in the template and the other names stations use."""

    key: str
    header: str
    synonyms: tuple[str, ...] = ()
    # text (free text: kept as typed), name, ident (a number or code written as text), id, sex, date, code, unit,
    # tags, bool, hukou, phone
    kind: str = "text"
    code_kind: str | None = None
    max_length: int | None = None
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("名字", "人员姓名", "退役军人姓名"), "name", max_length=50, required=True),
    Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "身份证", "居民身份证号码", "身份证件号码",
                                    "公民身份证号码", "公民身份证号", "证件号码", "身份证号(18位)"), "id", required=True),
    Column("sex", "性别", (), "sex"),
    Column("birth_date", "出生日期", ("出生年月", "出生年月日", "生日", "出生时间"), "date"),
    Column("ethnic", "民族", (), "code", CodeKind.ETHNIC),
    Column("political", "政治面貌", (), "code", CodeKind.POLITICAL),
    Column("education", "文化程度", ("学历",), "code", CodeKind.EDUCATION),
    Column("marital", "婚姻状况", ("婚姻", "婚否"), "code", CodeKind.MARITAL),
    Column("health", "健康状况", ("身体状况",), "code", CodeKind.HEALTH),
    Column("hukou_type", "户籍类别", ("户口性质", "户籍性质", "户口类别", "户口类型", "户籍类型"), "hukou"),
    Column("hukou_address", "户籍地址", ("户籍地", "户籍所在地", "户口所在地", "户籍住址", "户口地址"), max_length=200),
    Column("address", "常住地址", ("现居住地址", "现住址", "居住地址", "家庭住址", "家庭地址", "现居住地", "常住地",
                               "联系地址"), max_length=200),
    Column("phone", "联系电话", ("手机号码", "手机号", "手机", "电话", "电话号码", "联系方式"), "phone"),
    Column("primary_category", "人员类别", ("信息采集类别", "采集类别", "人员分类", "对象类别"), "code",
           CodeKind.CATEGORY),
    Column("tags", "人员标签", ("标签",), "tags"),
    Column("enlist_date", "入伍时间", ("入伍日期", "入伍年月"), "date"),
    Column("enlist_place", "入伍地", ("入伍地点",), max_length=100),
    Column("discharge_date", "退役时间", ("退役日期", "退役年月", "退伍时间", "退伍日期", "退伍年月"), "date"),
    Column("branch", "军种", ("服役军种",), "code", CodeKind.BRANCH),
    Column("troop_code", "部队代号", ("原部队代号", "部队番号", "原部队番号", "服役部队"), "ident", max_length=50),
    Column("re_enlisted", "二次入伍", ("是否二次入伍",), "bool"),
    Column("military_category", "军人类别", ("军人身份",), "code", CodeKind.MILITARY_CATEGORY),
    Column("rank", "军衔", ("职级", "军衔/职级", "军衔(职级)", "军衔职级", "退役时军衔"), "code", CodeKind.RANK),
    Column("discharge_mode", "退役方式", ("安置方式", "退役安置方式"), "code", CodeKind.DISCHARGE_MODE),
    Column("certificate_type", "退役证件", ("退役证件类型", "退役证类型"), "code", CodeKind.CERTIFICATE),
    Column("certificate_number", "退役证件编号", ("退役证号", "退役证编号", "证件编号"), "ident", max_length=50),
    Column("report_date", "报到时间", ("报到日期", "安置报到时间"), "date"),
    Column("placement_unit", "安置单位", (), max_length=200),
    Column("placement_unit_nature", "安置单位性质", ("单位性质",), "code", CodeKind.UNIT_NATURE),
    Column("employment", "就业状况", ("就业情况", "就业状态"), "code", CodeKind.EMPLOYMENT),
    Column("org_unit", "所属村(社区)", ("所属社区", "所属村", "所属村居", "所属村(居)", "村(社区)", "所属单位",
                                   "责任单位", "区划代码"), "unit"),
    Column("notes", "备注", ()),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
# Fields copied onto the record as they are (the rest are identity, scope or many-to-many).
PLAIN_FIELDS = tuple(c.key for c in COLUMNS if c.key not in ("id_number", "sex", "birth_date", "org_unit", "tags"))
DATE_FIELDS = ("enlist_date", "discharge_date", "report_date")


def _normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).strip("*:").replace("*", "").lower()


def _header_index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in COLUMNS:
        for name in (column.header, *column.synonyms):
            index.setdefault(_normalize_header(name), column)
    return index


HEADER_INDEX = _header_index()
PARENTHESIS = re.compile(r"\([^)]*\)$")


def match_header(text: object) -> Column | None:
    """The column a header cell names: exact (after normalisation), else without a trailing remark in brackets."""
    if not isinstance(text, str):
        return None
    key = _normalize_header(text)
    found = HEADER_INDEX.get(key)
    if found is None and key.endswith(")"):
        found = HEADER_INDEX.get(PARENTHESIS.sub("", key))
    return found


# --- reading the sheets --------------------------------------------------------------------------------------

Row = tuple[int, list]  # (row number as Excel shows it, cell values)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Built-in number formats that show dates (14–22, and the CJK-locale ones 27–36 and 50–58).
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(50, 59)])


def detect_format(path: str | Path, name: str = "") -> str:
    """xlsx, xls or csv, from the first bytes (files are often renamed), else from the extension."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head:
        raise ImportFileError(_("The file is empty (0 bytes): save the sheet again in Excel and import that file."))
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(XLS_MAGIC):
        return "xls"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<html", b"<!doctype", b"<?xml", b"<table", b"<meta")):
        raise ImportFileError(_("This file is a web page saved with an Excel name; open it in Excel and save it "
                                "as an Excel workbook (xlsx)."))
    ext = Path(name or str(path)).suffix.lower()
    if ext in (".csv", ".txt", ".tsv", "") and (b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return "csv"
    if ext in (".xlsx", ".xlsm", ".xls"):
        raise ImportFileError(_("The workbook is damaged or protected by a password; save it again without a "
                                "password."))
    raise ImportFileError(_("Upload an Excel workbook (xlsx or xls) or a CSV file."))


def _col_index(ref: str, cache: dict[str, int] = {}) -> int:  # noqa: B006 - a deliberate memo
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


def _serial_to_datetime(value: float, date1904: bool = False) -> datetime | None:
    """An Excel serial day number as a datetime (1900 or 1904 system), None when out of range."""
    if not 0 < value < 2958466:
        return None
    base = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    return base + timedelta(days=value)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _no_doctype(*_args) -> None:
    raise ImportFileError(_("The workbook is damaged or protected by a password; save it again without a password."))


def _parse_xml(data: bytes) -> ElementTree.Element:
    """A small workbook part. Office files never carry a DTD, so one is refused (no entity expansion at all);
    ElementTree never fetches external entities."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        _no_doctype()
    return ElementTree.fromstring(data)  # noqa: S314 - DTDs refused above


def _expat() -> Any:
    parser = ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    return parser


def _damaged() -> str:
    return _("The workbook is damaged or protected by a password; save it again without a password.")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}"


def _zip_entry_count(path: str | Path) -> int | None:
    """The entries an xlsx's end-of-central-directory record declares, read before ``zipfile`` builds an object
    per entry (None when there is no such record: then ``zipfile`` says the file is damaged)."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - 65557))  # the record (22 bytes) ends the file, after a comment of ≤ 64 KiB
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return int.from_bytes(tail[at + 10:at + 12], "little")


def check_zip(path: str | Path) -> int:
    """Refuse a zip bomb before anything is inflated; the content size (unzipped) when the file is fine.

    The declared sizes bound what is read: ``zipfile`` never inflates a part beyond its declared size (a part
    that lies about it fails its CRC check), so a declared size within the limits is a real limit."""
    count = _zip_entry_count(path)
    if count is not None and count > MAX_ZIP_ENTRIES:  # 0xFFFF (zip64) means more still
        raise ImportFileError(_("The file is not an ordinary Excel workbook (it holds %(n)d parts): open it in Excel, "
                                "copy the data into a new workbook and import that.") % {"n": count})
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(_damaged()) from exc
    total = sum(info.file_size for info in infos)
    if total > max_unzipped_bytes():
        raise ImportFileError(_("The workbook expands to %(size)s MB when opened, more than the %(max)s MB an import "
                                "reads: it is not an ordinary sheet of people. Copy the data into a new workbook "
                                "(without pictures) and import that.")
                              % {"size": _mb(total), "max": _mb(max_unzipped_bytes())})
    for info in infos:
        if info.file_size > ZIP_RATIO_FROM and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise ImportFileError(_("The workbook is not an ordinary Excel file: its part %(part)s expands %(ratio)s "
                                    "times, to %(size)s MB. Copy the data into a new workbook and import that.")
                                  % {"part": info.filename[:100], "size": _mb(info.file_size),
                                     "ratio": f"{info.file_size // max(info.compress_size, 1):,}"})
    return total


def _too_many_cells(cells: int, where: str) -> ImportFileError:
    return ImportFileError(_("The sheet holds %(cells)s cells (%(where)s), more than the %(max)s an import reads. "
                             "Delete the empty rows and columns below and to the right of the data, or split the "
                             "sheet into several files.")
                           % {"cells": f"{cells:,}", "where": where, "max": f"{max_cells():,}"})


class _FormulaWithoutValue:
    """A formula cell whose file holds no computed value: written by a program and never saved by Excel."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""

    __repr__ = __str__


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()


def _formula_without_value() -> str:
    return _("The cell holds a formula without a saved value (the file was written by a program and never saved "
             "in Excel): open the file in Excel and save it, or copy the column and paste it as values.")


class _XlsxBook:
    """A lean streaming reader of xlsx sheets (zip + expat), several times faster than openpyxl's
    read-only mode on large sheets. Values: str, int, float, bool, datetime (date-formatted numbers)."""

    def __init__(self, path: str | Path):
        self.zip = zipfile.ZipFile(path)
        names = set(self.zip.namelist())
        workbook = "xl/workbook.xml"
        if "_rels/.rels" in names:
            for rel in _parse_xml(self._read_part("_rels/.rels")):
                if rel.get("Type", "").endswith("/officeDocument"):
                    workbook = rel.get("Target", workbook).lstrip("/")
        base = posixpath.dirname(workbook)
        rels: dict[str, tuple[str, str]] = {}
        rels_path = posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels")
        if rels_path in names:
            for rel in _parse_xml(self._read_part(rels_path)):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
                rels[rel.get("Id", "")] = (rel.get("Type", ""), target)
        root = _parse_xml(self._read_part(workbook))
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
            raise ImportFileError(_damaged())
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

        root = _parse_xml(self._read_part(path))
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
                _col_index(last) - _col_index(first) + 1)

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
                raise _too_many_cells(cells, ref)

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
                st[1] = _col_index(ref) if ref else st[1] + 1
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
                        value = _serial_to_datetime(value, date1904) or value
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
                    raise _too_many_cells(st[8], _("read up to row %(row)d") % {"row": st[0]})
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
                    raise ImportFileError(_damaged()) from exc
                if out:
                    yield from out
                    out.clear()
                if not chunk:
                    break


class _Source:
    """One uploaded file: its format, its visible sheets and their rows."""

    def __init__(self, path: str | Path, name: str = ""):
        self.path = str(path)
        self.name = name or Path(path).name
        self.format = detect_format(path, self.name)
        self._xlsx: _XlsxBook | None = None
        self._xls = None
        self._openpyxl_fallback = False
        self.content_bytes = os.path.getsize(self.path)  # unzipped, for an xlsx: what reading it costs
        if self.format == "xlsx":
            self.content_bytes = check_zip(self.path)  # before either reader inflates anything
            try:
                self._xlsx = _XlsxBook(self.path)
            except ImportFileError:
                raise
            except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ExpatError, ValueError):
                logger.warning("lean xlsx reader failed on %s; using openpyxl", self.name, exc_info=True)
                self._openpyxl_fallback = True
        elif self.format == "xls":
            import xlrd

            try:
                self._xls = xlrd.open_workbook(self.path, on_demand=True)
            except Exception as exc:  # xlrd raises a variety of errors on damaged or encrypted files
                raise ImportFileError(_("The workbook is damaged or protected by a password; save it again "
                                        "without a password.")) from exc

    def sheet_names(self) -> list[str]:
        if self._xlsx is not None:
            return [name for name, _path in self._xlsx.sheets]
        if self._openpyxl_fallback:
            return [ws.title for ws in self._openpyxl().worksheets if ws.sheet_state == "visible"]
        if self._xls is not None:
            return [s.name for s in self._xls.sheets() if not s.visibility]
        return [Path(self.name).stem]

    def rows(self, sheet: int = 0) -> Iterator[Row]:
        if self._xlsx is not None:
            yield from self._xlsx.rows(self._xlsx.sheets[sheet][1])
        elif self._openpyxl_fallback:
            yield from self._openpyxl_rows(sheet)
        elif self._xls is not None:
            yield from self._xls_rows(sheet)
        else:
            yield from self._csv_rows()

    def estimate_rows(self) -> int:
        """Rows in the first sheet, cheaply (to decide between the request and the background); 0 when only
        reading the sheet would tell (it is then read in the background: see ``content_bytes``). Refuses a sheet
        declaring too many cells."""
        if self._xlsx is not None:
            if not self._xlsx.sheets:
                return 0
            path = self._xlsx.sheets[0][1]
            self._xlsx.check_declared_cells(path)
            rows = self._xlsx.dimension_rows(path)
            if rows is None and self._xlsx.zip.getinfo(path).file_size <= sync_max_bytes():
                rows = self._xlsx.count_rows(path)
            return rows or 0
        if self._openpyxl_fallback:
            ws = self._openpyxl().worksheets[0]
            return ws.max_row or 0
        if self._xls is not None:
            sheets = [s for s in self._xls.sheets() if not s.visibility]
            if sheets:
                self._check_xls_cells(sheets[0])
            return sheets[0].nrows if sheets else 0
        count = 0
        with open(self.path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                count += chunk.count(b"\n")
        return count + 1

    def close(self) -> None:
        if self._xlsx is not None:
            self._xlsx.zip.close()
        if self._xls is not None:
            self._xls.release_resources()

    # -- other readers

    def _openpyxl(self):
        if not hasattr(self, "_openpyxl_book"):
            import openpyxl

            try:
                self._openpyxl_book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            except Exception as exc:
                raise ImportFileError(_("The workbook is damaged or protected by a password; save it again "
                                        "without a password.")) from exc
        return self._openpyxl_book

    def _openpyxl_rows(self, sheet: int) -> Iterator[Row]:
        visible = [ws for ws in self._openpyxl().worksheets if ws.sheet_state == "visible"]
        for number, values in enumerate(visible[sheet].iter_rows(values_only=True), start=1):
            cells = list(values[:MAX_COLUMNS])
            while cells and cells[-1] in (None, ""):
                cells.pop()
            if cells:
                yield number, cells

    def _xls_rows(self, sheet: int) -> Iterator[Row]:
        import xlrd

        book = self._xls
        ws = [s for s in book.sheets() if not s.visibility][sheet]
        self._check_xls_cells(ws)
        for index in range(ws.nrows):
            cells = []
            for cell in ws.row(index)[:MAX_COLUMNS]:
                kind, value = cell.ctype, cell.value
                if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    value = None
                elif kind == xlrd.XL_CELL_DATE:
                    with contextlib.suppress(ValueError, OverflowError, xlrd.xldate.XLDateError):
                        value = xlrd.xldate_as_datetime(value, book.datemode)
                elif kind == xlrd.XL_CELL_BOOLEAN:
                    value = bool(value)
                elif kind == xlrd.XL_CELL_ERROR:
                    value = xlrd.error_text_from_code.get(value, "#ERR")
                cells.append(value)
            while cells and cells[-1] in (None, ""):
                cells.pop()
            if cells:
                yield index + 1, cells

    @staticmethod
    def _check_xls_cells(ws) -> None:
        cells = ws.nrows * min(ws.ncols, MAX_COLUMNS)
        if cells > max_cells():
            raise _too_many_cells(cells, f"{ws.nrows} × {ws.ncols}")

    def _csv_rows(self) -> Iterator[Row]:
        text = _decode_csv(Path(self.path).read_bytes())
        sample = text[:65536]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, values in enumerate(reader, start=1):
            cells: list = [_unwrap_excel_text(v) for v in values[:MAX_COLUMNS]]
            while cells and cells[-1] in (None, ""):
                cells.pop()
            if cells:
                yield number, cells


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GB 18030 (a superset of GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK text; save it again as CSV UTF-8.")) from exc


def _unwrap_excel_text(value: str) -> str | None:
    """CSV cells written as ="0123" (Excel's way to keep leading zeros) give back 0123."""
    if value.startswith('="') and value.endswith('"'):
        return value[2:-1]
    return value if value != "" else None


# --- cell values ---------------------------------------------------------------------------------------------

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
CJK = re.compile(r"[\u3400-\u9fff]")
SCIENTIFIC = re.compile(r"^\d+(\.\d+)?e\+?\d+$", re.IGNORECASE)
FLOAT_TEXT = re.compile(r"^(\d+)\.0+$")
DATE_TEXT = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?$")
TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
TAG_SPLIT = re.compile(r"[,;、/|\s]+")
TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
FOOTER = re.compile(r"^(填表|制表|审核|合计|总计|小计|负责人|单位负责人|说明|注[:：]|备注[:：]|联系人|统计)")
MALE = frozenset({"男", "男性", "m", "male", "1"})
FEMALE = frozenset({"女", "女性", "f", "female", "2"})
YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "有"})
NO = frozenset({"否", "n", "no", "false", "0", "×", "无", "不是"})
HUKOU = {"城镇": HukouType.URBAN, "城市": HukouType.URBAN, "非农业": HukouType.URBAN, "非农": HukouType.URBAN,
         "居民": HukouType.URBAN, "农村": HukouType.RURAL, "农业": HukouType.RURAL}
# Common ways of writing a code-table value; used only when the target exists in the (editable) table.
ALIASES: dict[str, dict[str, str]] = {
    CodeKind.POLITICAL: {"党员": "中共党员", "共产党员": "中共党员", "预备党员": "中共预备党员", "团员": "共青团员",
                         "无党派": "群众", "无": "群众"},
    CodeKind.EDUCATION: {"本科": "大学本科", "大学": "大学本科", "大专": "大学专科", "专科": "大学专科",
                         "硕士": "研究生", "博士": "研究生", "硕士研究生": "研究生", "博士研究生": "研究生",
                         "中专": "中专/高中", "高中": "中专/高中", "中技": "中专/高中", "技校": "中专/高中",
                         "职高": "中专/高中", "小学": "小学及以下", "文盲": "小学及以下", "半文盲": "小学及以下"},
    CodeKind.BRANCH: {"武警": "武警部队", "战略支援部队": "战略支援部队/信息支援部队", "信息支援部队": "战略支援部队/信息支援部队",
                      "火箭军(二炮)": "火箭军", "第二炮兵": "火箭军", "二炮": "火箭军"},
    CodeKind.DISCHARGE_MODE: {"计划分配": "转业(计划分配)", "自主择业": "转业(自主择业)", "自谋职业": "自主就业",
                              "安置工作": "安排工作", "政府安排工作": "安排工作"},
    CodeKind.MARITAL: {"已婚有配偶": "已婚", "初婚": "已婚", "再婚": "已婚", "离婚": "离异"},
}


FREE_TEXT_KINDS = frozenset({"text", "name"})  # never NFKC-normalised: （东门）： stays as written


def tidy_text(value: str) -> str:
    """Free text as typed: invisible characters removed and the ends trimmed; full-width forms, punctuation and
    inner spacing are the writer's and are kept."""
    if not value.isprintable():
        value = value.translate(INVISIBLE)
    return value.strip()


def clean_text(value: str) -> str:
    """For numbers, dates and codes: full-width → half-width (NFKC), invisible characters removed, whitespace runs
    collapsed. Never for free text (addresses, remarks), whose full-width punctuation is meant."""
    if value.isascii():
        return " ".join(value.split())
    text = unicodedata.normalize("NFKC", value)
    if not text.isprintable():
        text = text.translate(INVISIBLE)
    return " ".join(text.split())


def _memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Remember a converter's answer (or its error) per distinct cell value: coded columns and dates repeat."""
    cache: dict[tuple[type, Any], tuple[bool, Any]] = {}

    def memoized(raw: Any) -> Any:
        key = (type(raw), raw)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = (True, convert(raw))
            except _CellError as exc:
                hit = (False, str(exc))
            if len(cache) < 100_000:
                cache[key] = hit
        if hit[0]:
            return hit[1]
        raise _CellError(hit[1])

    return memoized


def _as_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat(" ")
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw)


def _code_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


@dataclass(frozen=True)
class ParsedDate:
    value: date
    precision: str  # "day" or "month"


def parse_date(raw: Any, *, date1904: bool = False, today: date | None = None) -> ParsedDate:
    """A date as stations write it: real dates, Excel serials, 2003-12-01, 2003/12/01, 2008.12, 2013年12月…"""
    today = today or timezone.localdate()
    year: int
    month: int
    day: int | None = None
    if isinstance(raw, datetime):
        return _checked_date(raw.year, raw.month, raw.day, raw, today)
    if isinstance(raw, date):
        return _checked_date(raw.year, raw.month, raw.day, raw, today)
    if isinstance(raw, bool):
        raise _CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not raw.is_integer() and 1900 <= raw < 2101:
            # 2008.12 typed into a "General" cell is stored as the number 2008.12; 2008.10 becomes 2008.1.
            whole, _dot, decimals = repr(raw).partition(".")
            if decimals == "1":
                raise _CellError(_("%(value)s could mean January or October: write %(year)s.01 or %(year)s.10.")
                                 % {"value": repr(raw), "year": whole})
            if len(decimals) > 2:
                raise _CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))
            return _checked_date(int(whole), int(decimals.ljust(1, "0")), None, raw, today)
        number = int(raw)
        if 19000101 <= number <= 21001231:
            return _checked_date(number // 10000, number // 100 % 100, number % 100, raw, today)
        if 190001 <= number <= 210012:
            return _checked_date(number // 100, number % 100, None, raw, today)
        if 1900 <= number <= 2100:
            raise _CellError(_("Give the month as well, e.g. %(year)s.12.") % {"year": number})
        moment = _serial_to_datetime(float(raw), date1904)
        if moment is None:
            raise _CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))
        return _checked_date(moment.year, moment.month, moment.day, raw, today)
    text = TIME_SUFFIX.sub("", str(raw).strip())
    text = "".join(text.split())
    text = text.replace("年", "-").replace("月", "-").replace("日", "").replace("号", "").rstrip("-")
    match = DATE_TEXT.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        day = int(match.group(3)) if match.group(3) else None
        return _checked_date(year, month, day, raw, today)
    if text.isdigit():
        if len(text) == 8:
            return _checked_date(int(text[:4]), int(text[4:6]), int(text[6:]), raw, today)
        if len(text) == 6:
            return _checked_date(int(text[:4]), int(text[4:]), None, raw, today)
        if len(text) == 4:
            raise _CellError(_("Give the month as well, e.g. %(year)s.12.") % {"year": text})
        if len(text) == 5:  # an Excel serial that reached a CSV file
            return parse_date(int(text), date1904=date1904, today=today)
    raise _CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))


def _checked_date(year: int, month: int, day: int | None, raw: Any, today: date) -> ParsedDate:
    try:
        value = date(year, month, day or 1)
    except ValueError:
        raise _CellError(_("There is no such date: %(value)s.") % {"value": _as_text(raw)}) from None
    if year < 1900:
        raise _CellError(_("The date %(date)s is not plausible.") % {"date": value.isoformat()})
    if value > today:
        raise _CellError(_("The date %(date)s is in the future.") % {"date": value.isoformat()})
    return ParsedDate(value, "day" if day else "month")


def _lost_digits() -> str:
    return _("The ID number was stored as a number and its last digits are lost: format the column as text and "
             "type the number again.")


def parse_id_cell(raw: Any) -> idnumber.IdNumber:
    """The ID number of a cell. A number cell (or its scientific text) of more than 15 digits has lost digits."""
    if isinstance(raw, (bool, datetime, date)):
        raise _CellError(_("Not an ID number."))
    if isinstance(raw, float):
        if not raw.is_integer() or abs(raw) >= 1e15:
            raise _CellError(_lost_digits())
        raw = int(raw)
    if isinstance(raw, int):
        if len(str(abs(raw))) > 15:
            raise _CellError(_lost_digits())
        raw = str(raw)
    text = "".join(str(raw).split())
    if SCIENTIFIC.match(text):
        raise _CellError(_lost_digits())
    match = FLOAT_TEXT.match(text)
    if match:
        if len(match.group(1)) > 15:
            raise _CellError(_lost_digits())
        text = match.group(1)
    try:
        return idnumber.parse(text)
    except idnumber.IdNumberError as exc:
        raise _CellError(str(exc)) from None


# --- look-ups ------------------------------------------------------------------------------------------------


class _Lookups:
    """Code tables, units and scope, loaded once per import (a few hundred rows) so rows never query."""

    def __init__(self, *, actor: User | None, unit: OrgUnit):
        self.target = unit
        self.codes: dict[str, dict[str, int]] = {}
        self.code_names: dict[str, list[str]] = {}
        self.code_name: dict[int, str] = {}
        self.code_parent: dict[int, int | None] = {}
        for pk, kind, name, parent in (Code.objects.filter(is_active=True).order_by("kind", "sort_order", "code")
                                       .values_list("pk", "kind", "name", "parent_id")):
            self.code_names.setdefault(kind, []).append(name)
            self.code_name[pk] = name
            self.code_parent[pk] = parent
        for kind in self.code_names:
            self.codes[kind] = self._index(kind)
        units = list(OrgUnit.objects.values_list("pk", "code", "name", "path", "is_active"))
        self.unit_by_code = {code: (pk, name, path, active) for pk, code, name, path, active in units}
        self.unit_name = {pk: name for pk, _code, name, _path, _active in units}
        self.units_by_name: dict[str, list[tuple[int, str, str, bool]]] = {}
        for pk, code, name, path, active in units:
            self.units_by_name.setdefault(_code_key(name), []).append((pk, code, path, active))
        if actor is not None:
            self.visible = set(OrgUnit.objects.visible_to(actor).values_list("pk", flat=True))
        else:
            self.visible = {pk for pk, _c, _n, path, _a in units if path.startswith(unit.path)}
        self.allowed = {pk for pk, _c, _n, path, _a in units if pk in self.visible and path.startswith(unit.path)}

    def _index(self, kind: str) -> dict[str, int]:
        exact: dict[str, int] = {}
        variants: dict[str, set[int]] = {}
        rows = Code.objects.filter(is_active=True, kind=kind).values_list("pk", "name")
        for pk, name in rows:
            key = _code_key(name)
            exact[key] = pk
            forms = {part for part in key.split("/") if part}
            inner = re.match(r"^(.*)\((.+)\)$", key)
            if inner:
                forms |= {inner.group(2), inner.group(1) + inner.group(2)}
            if kind == CodeKind.ETHNIC and key.endswith("族") and len(key) > 1:
                forms.add(key[:-1])
            for form in forms - {key}:
                variants.setdefault(form, set()).add(pk)
        index = {form: next(iter(pks)) for form, pks in variants.items() if len(pks) == 1 and form not in exact}
        index.update(exact)
        for alias, target in ALIASES.get(kind, {}).items():
            target_pk = exact.get(_code_key(target))
            if target_pk is not None:
                index.setdefault(_code_key(alias), target_pk)
        return index

    def code(self, kind: str, raw: Any, header: str) -> int:
        text = _as_text(raw)
        pk = self.codes.get(kind, {}).get(_code_key(text))
        if pk is None:
            names = self.code_names.get(kind, [])
            shown = "、".join(names[:8]) + ("…" if len(names) > 8 else "")
            raise _CellError(_("“%(value)s” is not a valid %(column)s; choose from: %(choices)s (%(count)d in all).")
                             % {"value": text, "column": header, "choices": shown, "count": len(names)})
        return pk

    def unit(self, raw: Any) -> int:
        text = _as_text(raw)
        digits = TWELVE_DIGITS.search(text.replace(" ", ""))
        if digits:
            found = self.unit_by_code.get(digits.group(0))
            if found is None:
                raise _CellError(_("No unit has the division code %(code)s.") % {"code": digits.group(0)})
            pk, name, _path, active = found
        else:
            matches = self.units_by_name.get(_code_key(text), [])
            if not matches:
                raise _CellError(_("No unit is called “%(name)s”; give its 12-digit division code.") % {"name": text})
            inside = [m for m in matches if m[0] in self.allowed] or matches
            if len(inside) > 1:
                raise _CellError(_("Several units are called “%(name)s”; give the 12-digit division code.")
                                 % {"name": text})
            pk, _code, _path, active = inside[0]
            name = self.unit_name[pk]
        if pk not in self.visible:
            raise _CellError(_("The unit %(unit)s is outside your area.") % {"unit": name})
        if pk not in self.allowed:
            raise _CellError(_("The unit %(unit)s is not under %(target)s.") % {"unit": name,
                                                                                 "target": self.target.name})
        if not active:
            raise _CellError(_("The unit %(unit)s is no longer in use.") % {"unit": name})
        return pk


# --- rows ----------------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One reason a row cannot be imported: row as the user sees it in Excel, column as headed in their sheet."""

    row: int
    column: str
    reason: str
    col_index: int | None = None  # 0-based position in the sheet, None when the column is missing


@dataclass
class ImportReport:
    """What an import found and did. In a dry run ``created``/``updated`` say what a commit would do."""

    file_name: str = ""
    format: str = ""
    sheet: str = ""
    sheet_index: int = 0
    header_row: int = 0
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    committed: bool = False
    atomic: bool = False
    rolled_back: bool = False
    reason_column: int = 0  # 0-based position for the "错误原因" column of the error workbook

    @property
    def errors(self) -> int:
        return len(self.bad_rows)

    def summary_line(self) -> str:
        return (f"rows={self.rows} valid={self.valid} errors={self.errors} created={self.created} "
                f"updated={self.updated}")

    def as_json(self, limit: int = JOB_PROBLEMS_KEPT) -> dict:
        return {
            "file": self.file_name, "format": self.format, "sheet": self.sheet, "header_row": self.header_row,
            "columns": self.columns, "ignored_columns": self.ignored_columns, "rows": self.rows,
            "valid": self.valid, "errors": self.errors, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "committed": self.committed,
            "atomic": self.atomic, "rolled_back": self.rolled_back,
            "problems": [[p.row, p.column, p.reason] for p in self.problems[:limit]],
            "problems_total": len(self.problems),
        }


@dataclass
class _Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    parsed_id: idnumber.IdNumber | None = None
    digest: str = ""


@dataclass(frozen=True)
class _Mapped:
    index: int
    column: Column
    header: str  # as written in the user's sheet


def _is_blank(values: list) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _is_numbering_row(values: list) -> bool:
    """A row of column numbers under the header (1, 2, 3… or (1), (2)…), as official forms have."""
    numbers = []
    for value in values:
        if value is None or value == "":
            continue
        text = clean_text(_as_text(value)).strip("()")
        if not text.isdigit():
            return False
        numbers.append(int(text))
    return len(numbers) >= 3 and all(b > a for a, b in zip(numbers, numbers[1:], strict=False))


class _Engine:
    """Validates rows in chunks and, when committing, writes each chunk."""

    def __init__(self, *, actor: User | None, unit: OrgUnit, mapping: list[_Mapped], report: ImportReport,
                 commit: bool, atomic: bool, date1904: bool = False):
        self.actor = actor
        self.unit = unit
        self.mapping = mapping
        self.report = report
        self.commit = commit
        self.atomic = atomic
        self.date1904 = date1904
        self.lookups = _Lookups(actor=actor, unit=unit)
        self.today = timezone.localdate()
        self.seen: dict[str, int] = {}
        self.header_of = {m.column.key: m for m in mapping}
        keys = set(self.header_of)
        update = [k for k in PLAIN_FIELDS if k in keys]
        if "name" in keys:
            update += ["name_pinyin", "name_initials"]
        if "rank" in keys and "military_category" not in keys:
            update.append("military_category")
        self.update_fields = update
        self.attnames = {name: Veteran._meta.get_field(name).attname for name in update}
        self.create_attnames = {name: Veteran._meta.get_field(name).attname for name in PLAIN_FIELDS}
        self.converters = {m.column.key: self._converter(m) for m in mapping}
        self.through_categories = Veteran.categories.through
        self.through_tags = Veteran.tags.through
        self.written_ids: list[int] = []  # records created or updated, for the apps that build on them (hooks)
        self.pinyin_cache: dict[str, tuple[str, str]] = {}
        self.defaults = {f.attname: f.get_default() for f in Veteran._meta.concrete_fields}

    # -- cells

    def _converter(self, mapped: _Mapped) -> Callable[[Any], Any]:
        column, header = mapped.column, mapped.header
        kind = column.kind
        if kind == "id":
            return parse_id_cell
        if kind == "date":
            return _memo(lambda raw: parse_date(raw, date1904=self.date1904, today=self.today))
        if kind == "code":
            return _memo(lambda raw: self.lookups.code(column.code_kind, raw, header))
        if kind == "unit":
            return _memo(self.lookups.unit)
        if kind == "sex":
            return _memo(self._sex)
        if kind == "bool":
            return _memo(self._bool)
        if kind == "hukou":
            return _memo(self._hukou)
        if kind == "phone":
            return self._phone
        if kind == "tags":
            return lambda raw: self._tags(raw, header)
        limit = column.max_length
        squeeze = kind == "name"
        tidy = clean_text if kind == "ident" else tidy_text

        def text(raw: Any) -> str:
            value = tidy(_as_text(raw))
            if squeeze:  # a name's spacing is tidied (张　三 → 张三), its characters are kept
                value = "".join(value.split()) if CJK.search(value) else " ".join(value.split())
            if limit and len(value) > limit:
                raise _CellError(_("Too long: at most %(n)d characters.") % {"n": limit})
            return value

        return text

    @staticmethod
    def _sex(raw: Any) -> str:
        key = _as_text(raw).strip().lower()
        if key in MALE:
            return Sex.MALE
        if key in FEMALE:
            return Sex.FEMALE
        raise _CellError(_("Write 男 or 女."))

    @staticmethod
    def _bool(raw: Any) -> bool:
        key = _as_text(raw).strip().lower()
        if key in YES:
            return True
        if key in NO:
            return False
        raise _CellError(_("Write 是 or 否."))

    @staticmethod
    def _hukou(raw: Any) -> str:
        key = _code_key(_as_text(raw)).removesuffix("户口").removesuffix("户籍")
        if key in HUKOU:
            return HUKOU[key]
        raise _CellError(_("Write 城镇 or 农村."))

    @staticmethod
    def _phone(raw: Any) -> str:
        if isinstance(raw, float) and not raw.is_integer():
            raise _CellError(_("Not a phone number: give an 11-digit mobile number or a landline with its area "
                               "code."))
        text = "".join(clean_text(_as_text(raw)).split()).replace("(", "").replace(")", "")
        if text.startswith("+86"):
            text = text[3:]
        if not phone_validator.regex.match(text):
            raise _CellError(_("Not a phone number: give an 11-digit mobile number or a landline with its area "
                               "code."))
        return text

    def _tags(self, raw: Any, header: str) -> list[int]:
        pks: list[int] = []
        for part in TAG_SPLIT.split(clean_text(_as_text(raw))):
            if part:
                pk = self.lookups.code(CodeKind.TAG, part, header)
                if pk not in pks:
                    pks.append(pk)
        return pks

    # -- rows

    def parse(self, number: int, values: list) -> _Row | None:
        """Convert and check one row on its own (no database). None for rows that carry no person."""
        id_index = self.header_of["id_number"].index
        if (id_index < len(values) and match_header(values[id_index]) is not None) or _is_numbering_row(values):
            self.report.skipped += 1  # a repeated header, or the row of column numbers official forms have
            return None
        row = _Row(number)
        width = len(values)
        formulas = False
        for mapped in self.mapping:
            raw = values[mapped.index] if mapped.index < width else None
            if raw is None:
                continue
            if raw is FORMULA_WITHOUT_VALUE:
                row.problems.append(Problem(number, mapped.header, _formula_without_value(), mapped.index))
                formulas = True
                continue
            if isinstance(raw, str):
                raw = tidy_text(raw) if mapped.column.kind in FREE_TEXT_KINDS else clean_text(raw)
                if not raw:
                    continue
            try:
                row.values[mapped.column.key] = self.converters[mapped.column.key](raw)
            except _CellError as exc:
                row.problems.append(Problem(number, mapped.header, str(exc), mapped.index))
        id_map = self.header_of["id_number"]
        id_failed = any(p.col_index == id_map.index for p in row.problems)
        if "id_number" not in row.values and not id_failed and not formulas and (
                "name" not in row.values or self._is_filler(values, id_map.index)):
            self.report.skipped += 1
            return None
        self._check_row(row)
        return row

    def _is_filler(self, values: list, id_index: int) -> bool:
        """A footer (填表人…, 合计): not a person."""
        texts = [clean_text(_as_text(v)) for v in values if v is not None and _as_text(v).strip()]
        return len(texts) <= 3 and any(FOOTER.match(t) for t in texts)

    def _problem(self, row: _Row, key: str, reason: str) -> None:
        mapped = self.header_of.get(key)
        column = mapped.header if mapped else COLUMN_BY_KEY[key].header
        row.problems.append(Problem(row.number, column, reason, mapped.index if mapped else None))

    def _check_row(self, row: _Row) -> None:
        values = row.values
        if "name" not in values and not self._failed(row, "name"):
            self._problem(row, "name", _("Required."))
        if "id_number" not in values and not self._failed(row, "id_number"):
            self._problem(row, "id_number", _("Required."))
        parsed: idnumber.IdNumber | None = values.pop("id_number", None)
        if parsed is None:
            return
        row.parsed_id = parsed
        row.digest = crypto.blind_index(parsed.number)
        sex = values.pop("sex", None)
        if sex and sex != parsed.sex:
            self._problem(row, "sex", _("The sex contradicts the ID number (its 17th digit says %(sex)s).")
                          % {"sex": _("male") if parsed.sex == Sex.MALE else _("female")})
        birth: ParsedDate | None = values.pop("birth_date", None)
        if birth is not None:
            expected = parsed.birth_date if birth.precision == "day" else parsed.birth_date.replace(day=1)
            if birth.value != expected:
                self._problem(row, "birth_date", _("The birth date contradicts the ID number (%(date)s).")
                              % {"date": parsed.birth_date.isoformat()})
        for key in DATE_FIELDS:
            if key in values:
                values[key] = values[key].value
                if values[key] < parsed.birth_date:
                    self._problem(row, key, _("The date is before the person's birth."))
        enlist, discharge = values.get("enlist_date"), values.get("discharge_date")
        if enlist and discharge and discharge < enlist:
            self._problem(row, "discharge_date", _("The discharge date is before the enlistment date."))
        rank = values.get("rank")
        if rank is not None:
            category = self.lookups.code_parent.get(rank)
            given = values.get("military_category")
            if given is not None and category is not None and given != category:
                self._problem(row, "rank", _("The rank %(rank)s does not belong to the military category "
                                             "%(category)s.") % {"rank": self.lookups.code_name[rank],
                                                                 "category": self.lookups.code_name[given]})
            elif given is None and category is not None:
                values["military_category"] = category

    def _failed(self, row: _Row, key: str) -> bool:
        mapped = self.header_of.get(key)
        return mapped is not None and any(p.col_index == mapped.index for p in row.problems)

    # -- chunks

    def flush(self, chunk: list[_Row]) -> None:
        """Duplicates, existing records and scope for a chunk of rows; then write it when committing."""
        if not chunk:
            return
        report = self.report
        digests = [r.digest for r in chunk if r.digest]
        existing_qs = Veteran.objects.filter(id_number_hash__in=digests)
        if self.commit:
            existing_qs = existing_qs.select_for_update()
        existing = {v.id_number_hash: v for v in existing_qs} if digests else {}
        tags_column = "tags" in self.header_of
        current_tags: dict[int, set[int]] = {}
        if tags_column and existing:
            for vet_id, code_id in self.through_tags.objects.filter(
                    veteran_id__in=[v.pk for v in existing.values()]).values_list("veteran_id", "code_id"):
                current_tags.setdefault(vet_id, set()).add(code_id)
        new: list[tuple[_Row, dict]] = []
        changed: list[tuple[_Row, Veteran]] = []
        touched: list[tuple[_Row, int]] = []
        id_column = self.header_of["id_number"]
        for row in chunk:
            if row.digest:
                first = self.seen.get(row.digest)
                if first is not None:
                    row.problems.append(Problem(row.number, id_column.header,
                                                _("The same ID number as row %(row)d.") % {"row": first},
                                                id_column.index))
                else:
                    self.seen[row.digest] = row.number
            record = existing.get(row.digest) if row.digest else None
            if record is not None:
                plan = self._plan_update(row, record, current_tags.get(record.pk, set()))
            elif row.parsed_id is not None:
                plan = self._plan_create(row)
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
                touched.append((row, record.pk))
        if self.commit and not (self.atomic and report.bad_rows):
            self._write(new, changed, touched)

    def _plan_create(self, row: _Row) -> dict | None:
        """The new record as column values (attname → value); model instances are not needed for COPY."""
        values = row.values
        unit_pk = values.pop("org_unit", None) or self.unit.pk
        if values.get("primary_category") is None and not self._failed(row, "primary_category"):
            self._problem(row, "primary_category", _("Required for a new record."))
        if row.problems:
            return None
        parsed = row.parsed_id
        record = dict(self.defaults)
        record.update(org_unit_id=unit_pk, id_number_hash=row.digest, id_number_masked=parsed.masked,
                      sex=parsed.sex, birth_date=parsed.birth_date,
                      created_by_id=self.actor.pk if self.actor is not None else None)
        attnames = self.create_attnames
        for key, value in values.items():
            if key in attnames:
                record[attnames[key]] = value
        return record

    def _pinyin(self, name: str) -> tuple[str, str]:
        found = self.pinyin_cache.get(name)
        if found is None:
            found = self.pinyin_cache[name] = name_pinyin(name)
        return found

    def _plan_update(self, row: _Row, record: Veteran, tags_now: set[int]) -> Veteran | None:
        """The existing record with the row's non-blank cells applied; None when nothing changes."""
        values = row.values
        if record.org_unit_id not in self.lookups.visible:
            self._problem(row, "id_number", duplicate_message(user=None, existing=record))
            return None
        unit_pk = values.pop("org_unit", None)
        if unit_pk is not None and unit_pk != record.org_unit_id:
            self._problem(row, "org_unit", _("This person is registered at %(unit)s; use a transfer to change the "
                                             "unit.") % {"unit": self.lookups.unit_name.get(record.org_unit_id, "")})
        if row.problems:
            return None
        dirty = False
        for key, value in values.items():
            if key in self.attnames and getattr(record, self.attnames[key]) != value:
                setattr(record, self.attnames[key], value)
                dirty = True
        if "name" in values and dirty:
            record.name_pinyin, record.name_initials = self._pinyin(record.name)
        tags = values.get("tags")
        if tags is not None and set(tags) != tags_now:
            dirty = True
        return record if dirty else None

    def _write(self, new: list[tuple[_Row, dict]], changed: list[tuple[_Row, Veteran]],
               touched: list[tuple[_Row, int]]) -> None:
        links: list[tuple[int, int]] = []
        tag_rows: list[tuple[int, int]] = []
        replace_tags: list[int] = []
        if new:
            pinyin = self._pinyin

            def complete(row: _Row, record: dict) -> None:
                # Encryption and pinyin are done as each row is streamed, so that PostgreSQL stores the rows
                # already sent while Python prepares the next ones.
                record["id_number_encrypted"] = crypto.encrypt(row.parsed_id.number)
                record["name_pinyin"], record["name_initials"] = pinyin(record["name"])

            _copy_veterans(new, complete)
            for row, record in new:
                if record["primary_category_id"]:
                    links.append((record["id"], record["primary_category_id"]))
                for code in row.values.get("tags") or ():
                    tag_rows.append((record["id"], code))
        if changed:
            updates = []
            for _row, record in changed:
                record.pk = None  # INSERT … ON CONFLICT (id_number_hash) DO UPDATE: one statement per chunk
                updates.append(record)
            Veteran.objects.bulk_create(updates, update_conflicts=True, unique_fields=["id_number_hash"],
                                        update_fields=[*self.update_fields, "updated_at"])
        for row, pk in touched:
            category = row.values.get("primary_category")
            if category:
                links.append((pk, category))
            if row.values.get("tags") is not None:
                replace_tags.append(pk)
                tag_rows.extend((pk, code) for code in row.values["tags"])
        if replace_tags:
            self.through_tags.objects.filter(veteran_id__in=replace_tags).delete()
        _link(self.through_categories, links)
        _link(self.through_tags, tag_rows)
        self.written_ids.extend(record["id"] for _row, record in new)
        self.written_ids.extend(pk for _row, pk in touched)


def _copy_veterans(new: list[tuple[_Row, dict]], complete: Callable[[_Row, dict], None]) -> None:
    """Insert new records with COPY: ids are reserved from the sequence first (for the many-to-many rows),
    then the rows stream in. Several times faster than ``bulk_create`` on large sheets, whose cost is building
    one parameter per cell in Python.

    History is written set-based: the row-level history trigger is skipped for the COPY and the same "insert"
    events are then written by one ``INSERT … SELECT`` under the import's context. Per row, the trigger enters
    two PL/pgSQL exception blocks (pgtrigger's ignore check and pghistory's context look-up), which made it cost
    ten times the insert itself. The trigger is skipped through pgtrigger's own switch, the ``pgtrigger.ignore``
    setting its ignore check reads, set with ``SET LOCAL`` semantics around the COPY only: it holds for this
    transaction alone, so other sessions' writes keep their history, and it takes no lock (``ALTER TABLE …
    DISABLE TRIGGER`` did, and kept every other writer of the table waiting until the import committed).
    """
    meta = Veteran._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    now = timezone.now()
    trigger = _insert_event_trigger(Veteran)
    with connection.cursor() as cursor:
        # Through Django's cursor, so the history context of this transaction is set before the COPY.
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(new)])
        ids = [pk for (pk,) in cursor.fetchall()]
        columns = ", ".join(quote(f.column) for f in fields)
        attnames = [f.attname for f in fields]
        pk_name = meta.pk.attname
        # The raw cursor's COPY bypasses Django's error wrapping: wrap it, so that a unique violation is Django's
        # IntegrityError like every other write of the import.
        with (_history_trigger_skipped(cursor, trigger.get_pgid(Veteran)), connection.wrap_database_errors,
              cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy):
            for pk, (row, record) in zip(ids, new, strict=True):
                complete(row, record)
                record[pk_name] = pk
                record["created_at"] = record["updated_at"] = now
                copy.write_row([record[name] for name in attnames])
        _write_insert_events(cursor, ids)


def _insert_event_trigger(model):
    """The pghistory trigger that records the rows inserted into ``model``'s table (a record, or a many-to-many
    link), or None when the table has none."""
    return next((t for t in model._meta.triggers
                 if getattr(t, "operation", None) == pgtrigger.Insert and getattr(t, "event_model", None) is not None),
                None)


@contextlib.contextmanager
def _history_trigger_skipped(cursor, pgid: str) -> Iterator[None]:
    """Skip one history trigger for the statements inside, through pgtrigger's own switch (the
    ``pgtrigger.ignore`` setting its ignore check reads): transaction-local (rolled back with a failed statement's
    savepoint), no lock, other sessions' writes keep their history; reset to "ignore nothing" after."""
    cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + pgid + "}"])
    yield
    cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


def _history_context_id(cursor) -> int:
    """The pghistory context of this transaction (the import's: user, unit, file), attached once."""
    cursor.execute("SELECT _pgh_attach_context()")
    return cursor.fetchone()[0]


def _write_insert_events(cursor, ids: list[int]) -> None:
    """The "insert" history events of the rows ``ids``, as the trigger writes them: every tracked column,
    the import's context (attached once), the transaction's time."""
    event_model = Veteran.events.rel.related_model
    quote = connection.ops.quote_name
    special = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context_id"}
    copied = [f.column for f in event_model._meta.concrete_fields if f.column not in special]
    context_id = _history_context_id(cursor)
    columns = ", ".join(quote(c) for c in copied)
    cursor.execute(
        f"INSERT INTO {quote(event_model._meta.db_table)} ({columns}, pgh_context_id, pgh_created_at, pgh_label, "  # noqa: S608
        f"pgh_obj_id) SELECT {columns}, %s, NOW(), 'insert', {quote(Veteran._meta.pk.column)} "
        f"FROM {quote(Veteran._meta.db_table)} WHERE {quote(Veteran._meta.pk.column)} = ANY(%s)",
        [context_id, ids])


def _link(through, pairs: list[tuple[int, int]]) -> None:
    """Add many-to-many rows (veteran, code) in one statement; rows already there are left alone.

    The through tables' "added" history (who added a category or tag) is written set-based like the records'
    own: the row trigger is skipped for this statement through ``pgtrigger.ignore`` (transaction-local, no lock)
    and the rows the INSERT returned become their events in the same statement, under the import's context.
    """
    if not pairs:
        return
    meta = through._meta
    quote = connection.ops.quote_name
    left, right = meta.get_field("veteran").column, meta.get_field("code").column
    added = _insert_event_trigger(through)
    values = [[a for a, _b in pairs], [b for _a, b in pairs]]
    insert = (f"INSERT INTO {quote(meta.db_table)} ({quote(left)}, {quote(right)}) "  # noqa: S608 - names from the model
              "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        if added is None:
            cursor.execute(insert, values)
            return
        event_table = quote(added.event_model._meta.db_table)
        columns = ", ".join(quote(c) for c in (meta.pk.column, left, right))
        context_id = _history_context_id(cursor)
        with _history_trigger_skipped(cursor, added.get_pgid(through)):
            cursor.execute(
                f"WITH added AS ({insert} RETURNING {columns}) "  # noqa: S608 - names from the models
                f"INSERT INTO {event_table} ({columns}, pgh_context_id, pgh_created_at, pgh_label) "
                f"SELECT {columns}, %s, NOW(), %s FROM added",
                [*values, context_id, added.label])


# --- the engine ----------------------------------------------------------------------------------------------


def _find_header(rows: Iterator[Row]) -> tuple[list[Row], int, list[_Mapped], list[str]]:
    """Read the first rows; the header is the one naming the most known columns."""
    head: list[Row] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    best: tuple[int, list[_Mapped], list[str]] | None = None
    for number, values in head:
        mapped: list[_Mapped] = []
        ignored: list[str] = []
        keys: set[str] = set()
        for index, value in enumerate(values):
            column = match_header(value)
            if column is not None and column.key not in keys:
                keys.add(column.key)
                mapped.append(_Mapped(index, column, clean_text(str(value))))
            elif value is not None and str(value).strip():
                ignored.append(clean_text(_as_text(value)))
        if len(mapped) >= 2 and (best is None or len(mapped) > len(best[1])):
            best = (number, mapped, ignored)
    if best is None:
        return head, 0, [], []
    return head, *best


def _open_sheet(source: _Source) -> tuple[int, str, int, list[_Mapped], list[str], int, Iterator[Row]]:
    """The first visible sheet with a header row: index, name, header row, mapping, ignored headers, width of the
    rows above the data, and the data rows."""
    names = source.sheet_names()
    filled = False
    for index, name in enumerate(names):
        rows = source.rows(index)
        head, header_row, mapping, ignored = _find_header(rows)
        if header_row:
            rest = [r for r in head if r[0] > header_row]

            def remaining(rest=rest, rows=rows) -> Iterator[Row]:
                yield from rest
                yield from rows

            width = max(len(values) for _number, values in head if _number <= header_row)
            return index, name, header_row, mapping, ignored, width, remaining()
        # Read on only while blank: a header below ten blank rows makes a sheet without a header, not an empty one.
        filled = filled or any(not _is_blank(values) for _number, values in itertools.chain(head, rows))
    if not filled:
        raise ImportFileError(_("The sheet is empty: no cell is filled in. Fill in the template (a header row with "
                                "姓名 and 公民身份号码, one person per row) and import it again."))
    raise ImportFileError(_("No header row found: one of the first %(n)d rows must name the columns, including "
                            "姓名 and 公民身份号码.") % {"n": HEADER_SCAN_ROWS})


def veteran_import(*, actor: User | None, path: str | Path, unit: OrgUnit, commit: bool = False,
                   atomic: bool = False, file_name: str = "", job: Job | None = None,
                   progress: Callable[[int], None] | None = None,
                   on_committed: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Validate every row of the sheet at ``path`` and, with ``commit``, write the valid ones.

    ``unit`` is the default responsible unit (rows may name units below it). ``actor`` None (the command) scopes
    the import to ``unit``'s subtree. With ``atomic`` nothing is written when any row is bad. The write is one
    transaction (committed only after the last row is validated); ``on_committed`` runs inside it, so a job's
    result is saved together with the records or not at all.
    """
    if actor is not None and not OrgUnit.objects.visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("The unit %(unit)s is outside your area.") % {"unit": unit.name})
    source = _Source(path, file_name)
    try:
        index, sheet, header_row, mapping, ignored, width, rows = _open_sheet(source)
        keys = {m.column.key for m in mapping}
        missing = [c.header for c in COLUMNS if c.required and c.key not in keys]
        if missing:
            raise ImportFileError(_("Required columns are missing: %(columns)s.") % {"columns": "、".join(missing)})
        report = ImportReport(file_name=source.name, format=source.format, sheet=sheet, sheet_index=index,
                              header_row=header_row, columns=[m.header for m in mapping], ignored_columns=ignored,
                              atomic=atomic, reason_column=width)
        engine = _Engine(actor=actor, unit=unit, mapping=mapping, report=report, commit=commit, atomic=atomic,
                         date1904=bool(source._xlsx and source._xlsx.date1904) or bool(
                             source._xls is not None and source._xls.datemode))

        def run() -> None:
            chunk: list[_Row] = []
            for number, values in rows:
                report.reason_column = max(report.reason_column, len(values))
                if _is_blank(values):
                    continue
                row = engine.parse(number, values)
                if row is not None:
                    chunk.append(row)
                if len(chunk) >= CHUNK:
                    engine.flush(chunk)
                    chunk = []
                    if progress is not None:
                        progress(number)
            engine.flush(chunk)
            if report.rows == 0:
                raise ImportFileError(_("The sheet has no data rows under the header."))

        if not commit:
            run()
            return report
        metadata = {"import_job": job.pk if job is not None else None, "import_file": source.name}
        if actor is not None:
            metadata["user"] = actor.pk
        with transaction.atomic():
            try:
                with transaction.atomic(), pghistory.context(**metadata):
                    _fast_history_triggers()
                    run()
                    if atomic and report.errors:
                        raise _RollBack
            except _RollBack:
                report.rolled_back = True
                report.created = report.updated = report.unchanged = 0
            except IntegrityError as exc:
                # Someone registered one of these people between our check and our write.
                meanwhile = _registered_meanwhile(exc, engine)
                if meanwhile is None:
                    raise
                raise meanwhile from exc
            report.committed = not report.rolled_back
            if report.committed:
                hooks.veterans_changed(engine.written_ids)  # told once the transaction commits
            if on_committed is not None:
                on_committed(report)
        return report
    finally:
        source.close()


DUPLICATE_KEY = re.compile(r"\(id_number_hash\)=\(([0-9a-f]+)\)")


def _registered_meanwhile(exc: IntegrityError, engine: _Engine) -> ImportFileError | None:
    """A unique violation on the blind index: another import or a station registered one of these people after
    this import looked them up (an overlapping import of the same people). Named by its row when PostgreSQL says
    which key; None for any other integrity error (not the user's to fix: it stays an internal error)."""
    diag = getattr(exc.__cause__, "diag", None)
    constraint = getattr(diag, "constraint_name", "") or ""
    if "id_number_hash" not in constraint:
        return None
    match = DUPLICATE_KEY.search(getattr(diag, "message_detail", "") or "")
    row = engine.seen.get(match.group(1)) if match else None
    if row is None:
        return ImportFileError(_("Someone else registered one of these people while the import ran; nothing was "
                                 "written. Import the file again."))
    return ImportFileError(_("Someone else registered the person of row %(row)d (perhaps others of this sheet as "
                             "well) while the import ran, for example in another import of the same people; nothing "
                             "was written. Import the file again: the people registered meanwhile are then updated.")
                           % {"row": row})


def _fast_history_triggers() -> None:
    """Keep the history triggers but spare them an exception per row.

    pgtrigger's ``_pgtrigger_should_ignore()`` reads the ``pgtrigger.ignore`` setting inside an exception block;
    when the setting does not exist every row pays for a raised and caught error (a subtransaction), which made
    the history trigger ~15× dearer than the insert itself. An empty list means "ignore no trigger": the
    triggers run and record every row as before, only cheaply. ``SET LOCAL`` ends with the transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL pgtrigger.ignore = '{}'")


class _RollBack(Exception):
    """All or nothing: a row is bad, undo the writes of this import."""


# --- the error workbook --------------------------------------------------------------------------------------


def error_workbook(*, path: str | Path, report: ImportReport, file_name: str = "", out: str | Path) -> None:
    """The user's sheet back with the bad cells filled red and a "错误原因" column.

    An xlsx of moderate size is annotated in place (formatting kept); anything else (xls, csv, large
    sheets) is rewritten row by row into a new xlsx with the same rows and columns.
    """
    by_row: dict[int, list[Problem]] = {}
    for problem in report.problems:
        by_row.setdefault(problem.row, []).append(problem)
    source = _Source(path, file_name)
    try:
        if source.format == "xlsx" and source.estimate_rows() <= ANNOTATE_MAX_ROWS:
            try:
                _annotate_xlsx(source, report, by_row, out)
                return
            except ImportFileError:
                raise
            except Exception:  # an exotic workbook openpyxl cannot rewrite: fall back to a plain copy
                logger.warning("annotating %s failed; rewriting", source.name, exc_info=True)
        _rewrite_xlsx(source, report, by_row, out)
    finally:
        source.close()


def _reason_text(problems: list[Problem]) -> str:
    return "；".join(f"{p.column}：{p.reason}" if p.column else p.reason for p in problems)


def _annotate_xlsx(source: _Source, report: ImportReport, by_row: dict[int, list[Problem]], out) -> None:
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.load_workbook(source.path)
    ws = workbook[report.sheet]
    fill = PatternFill("solid", fgColor=ERROR_FILL)
    red = Font(color="9C0006", bold=True)
    reason_col = report.reason_column + 1
    ws.cell(report.header_row, reason_col, REASON_HEADER).font = red
    ws.column_dimensions[openpyxl.utils.get_column_letter(reason_col)].width = 60
    for number, problems in by_row.items():
        for problem in problems:
            if problem.col_index is not None:
                ws.cell(number, problem.col_index + 1).fill = fill
        cell = ws.cell(number, reason_col, _reason_text(problems))
        cell.font = Font(color="9C0006")
    workbook.save(out)


def _rewrite_xlsx(source: _Source, report: ImportReport, by_row: dict[int, list[Problem]], out) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_urls": False,
                                              "strings_to_formulas": False, "strings_to_numbers": False})
    ws = workbook.add_worksheet((report.sheet or "Sheet1")[:31])
    bad = workbook.add_format({"bg_color": "#" + ERROR_FILL})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bad_day = workbook.add_format({"num_format": "yyyy-mm-dd", "bg_color": "#" + ERROR_FILL})
    reason = workbook.add_format({"font_color": "#9C0006"})
    header = workbook.add_format({"bold": True, "font_color": "#9C0006"})
    reason_col = report.reason_column
    ws.set_column(reason_col, reason_col, 60)
    for number, values in source.rows(report.sheet_index):
        r = number - 1
        problems = by_row.get(number, [])
        bad_cols = {p.col_index for p in problems}
        for c, value in enumerate(values):
            if value is None:
                if c in bad_cols:
                    ws.write_blank(r, c, None, bad)
                continue
            style = bad if c in bad_cols else None
            if isinstance(value, (datetime, date)):
                ws.write_datetime(r, c, value, bad_day if c in bad_cols else day)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value, style)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value, style)
            else:
                ws.write_string(r, c, str(value)[:32767], style)
        for c in bad_cols - set(range(len(values))) - {None}:
            ws.write_blank(r, c, None, bad)
        if number == report.header_row:
            ws.write_string(r, reason_col, REASON_HEADER, header)
        elif problems:
            ws.write_string(r, reason_col, _reason_text(problems), reason)
    workbook.close()


# --- the template --------------------------------------------------------------------------------------------


def _column_hint(column: Column) -> str:
    hints = {
        "name": _("The person's name."),
        "id_number": _("18 characters (an old 15-digit number is converted). Keep this column as text: a number "
                       "cell loses the last digits."),
        "sex": _("男 or 女; checked against the ID number. May be left empty."),
        "birth_date": _("Checked against the ID number. May be left empty."),
        "hukou_type": _("城镇 or 农村."),
        "phone": _("An 11-digit mobile number or a landline with its area code."),
        "tags": _("Several tags separated by 、 or commas."),
        "re_enlisted": _("是 or 否."),
        "rank": _("Must belong to the military category."),
        "org_unit": _("Division code or name of a unit in your area; empty: the unit chosen when importing."),
        "primary_category": _("Required for a new record."),
    }
    if column.key in hints:
        return hints[column.key]
    if column.kind == "date":
        return _("A date, e.g. 2008-12-01, 2008/12/01, 2008.12 or 2008年12月.")
    if column.kind == "code":
        return _("Choose from the drop-down list.")
    if column.max_length:
        return _("Text, at most %(n)d characters.") % {"n": column.max_length}
    return ""


def import_template(*, user: User) -> bytes:
    """The import template: the header row, drop-down lists for coded columns, and a sheet of instructions."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "退役军人信息"
    guide = workbook.create_sheet("填写说明")
    lists = workbook.create_sheet("代码表")
    lists.sheet_state = "hidden"
    last_row = 5001
    bold = Font(bold=True)
    required_font = Font(bold=True, color="C00000")
    fill = PatternFill("solid", fgColor="EEF0F3")
    codes: dict[str, list[str]] = {}
    for kind, name in Code.objects.filter(is_active=True).order_by("kind", "sort_order", "code").values_list(
            "kind", "name"):
        codes.setdefault(kind, []).append(name)
    units = [f"{code} {name}" for code, name in OrgUnit.objects.visible_to(user).filter(is_active=True)
             .order_by("path").values_list("code", "name")]
    list_col = 0

    def add_list(title: str, values: list[str]) -> str | None:
        nonlocal list_col
        if not values:
            return None
        list_col += 1
        letter = get_column_letter(list_col)
        lists.cell(1, list_col, title)
        for i, value in enumerate(values, start=2):
            lists.cell(i, list_col, value)
        return f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${len(values) + 1}"

    error_title = _("Not in the list")
    error_text = _("Choose a value from the drop-down list.")
    for position, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(position)
        cell = ws.cell(1, position, column.header)
        cell.font = required_font if column.required or column.key == "primary_category" else bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[letter].width = 22 if column.kind in ("id", "unit") else (
            30 if (column.max_length or 0) >= 100 else 14)
        if column.kind in ("id", "phone", "date"):
            ws.column_dimensions[letter].number_format = "@"
        formula = None
        if column.kind == "code":
            formula = add_list(column.header, codes.get(column.code_kind, []))
        elif column.kind == "unit":
            formula = add_list(column.header, units)
        elif column.kind == "sex":
            formula = '"男,女"'
        elif column.kind == "hukou":
            formula = '"城镇,农村"'
        elif column.kind == "bool":
            formula = '"是,否"'
        if formula:
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                        errorStyle="warning" if column.kind == "unit" else "stop",
                                        errorTitle=error_title, error=error_text)
            validation.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "C2"

    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 8
    guide.column_dimensions["C"].width = 70
    guide.column_dimensions["D"].width = 40
    notes = [
        _("Fill in one person per row on the first sheet. The columns may be in any order and a title row may "
          "stand above the header; columns the import does not know are ignored."),
        _("Red column names are required: 姓名 and 公民身份号码, and 人员类别 for a person not registered yet."),
        _("People are matched by ID number: importing the same person again updates the record, never doubles "
          "it. Empty cells do not erase what is already recorded."),
        _("Every row is checked before anything is written; bad rows are listed with their row number, column and "
          "reason, and you can download the sheet back with the bad cells marked."),
    ]
    guide.cell(1, 1, _("How to fill in the sheet")).font = Font(bold=True, size=13)
    for i, note in enumerate(notes, start=2):
        guide.cell(i, 1, f"{i - 1}. {note}")
    start = len(notes) + 3
    for position, title in enumerate([_("Column"), _("Required"), _("How to fill it in"), _("Also accepted as")],
                                     start=1):
        guide.cell(start, position, title).font = bold
    for offset, column in enumerate(COLUMNS, start=1):
        guide.cell(start + offset, 1, column.header)
        guide.cell(start + offset, 2, _("yes") if column.required else "")
        guide.cell(start + offset, 3, _column_hint(column)).alignment = Alignment(wrap_text=True)
        guide.cell(start + offset, 4, "、".join(column.synonyms))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- jobs ----------------------------------------------------------------------------------------------------


def import_job_create(*, actor: User, upload: UploadedFile, unit: OrgUnit | None = None,
                      atomic: bool = False) -> Job:
    """Store an uploaded sheet as an import job (phase: preview). Raises ValidationError for the form."""
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied
    unit = unit or actor.org_unit
    if unit is None or not OrgUnit.objects.visible_to(actor).filter(pk=unit.pk).exists():
        raise ValidationError({"unit": _("Choose a unit in your area.")})
    if upload.size and upload.size > max_upload_bytes():
        raise ValidationError({"file": _("The file is too large (at most %(mb)d MB).")
                               % {"mb": max_upload_bytes() // (1024 * 1024)}})
    name = Path(upload.name or "import").name
    suffix = Path(name).suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".xls", ".csv", ".txt"):
        raise ValidationError({"file": _("Upload an Excel workbook (xlsx or xls) or a CSV file.")})
    job = Job(kind=JOB_KIND, user=actor, title=(_("Import %(name)s") % {"name": name})[:200],
              grant_permissions=[PERMISSION], grant_scope=unit.path,  # re-checked when its error sheet is downloaded
              params={"phase": "preview", "unit": unit.pk, "atomic": bool(atomic), "file_name": name,
                      "language": translation.get_language()})
    files.job_input_store(job, upload, suffix=suffix)  # full ID numbers: encrypted at rest, random name
    try:
        # Only the zip's directory and the sheet's declared range are read here: a file that would cost more to
        # read than a small sheet is read in the background (zip bombs are refused unread by _Source).
        with files.job_input_path(job) as path:
            source = _Source(path, name)
            try:
                job.total = source.estimate_rows()
                if source.content_bytes > sync_max_bytes():
                    job.params["background"] = True
            finally:
                source.close()
    except ImportFileError as exc:
        job.input_file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from exc
    job.save()
    return job


def import_job_in_background(job: Job) -> bool:
    return job.total > sync_max_rows() or bool(job.params.get("background"))


def import_job_dispatch(job: Job) -> None:
    """Run the job's phase now (small sheets) or in a Celery task after the current transaction commits."""
    if import_job_in_background(job):
        from apps.core import jobs

        jobs.start(job)  # Redis down: the job fails at once with 后台服务暂不可用
    else:
        import_job_run(job_pk=job.pk, report_progress=False)
        job.refresh_from_db()


def import_job_confirm(*, actor: User, job: Job) -> Job:
    """The user confirms a preview: the job moves to its commit phase (once)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk, kind=JOB_KIND, user=actor)
        result = locked.result or {}
        if locked.params.get("phase") != "preview" or locked.status != JobStatus.DONE:
            raise ValidationError(_("This import has already been confirmed or is still being checked."))
        if not result.get("valid"):
            raise ValidationError(_("No row can be imported."))
        if locked.params.get("atomic") and result.get("errors"):
            raise ValidationError(_("All or nothing was chosen and some rows have errors: correct them and upload "
                                    "the sheet again."))
        locked.params = {**locked.params, "phase": "commit"}
        locked.status, locked.progress, locked.finished_at, locked.error = JobStatus.PENDING, 0, None, ""
        locked.save(update_fields=["params", "status", "progress", "finished_at", "error"])
    import_job_dispatch(locked)
    return locked


class _Progress:
    """Writes a job's progress (and its sign of life, ``heartbeat_at``) on a connection of its own, so the
    page sees it while the import's transaction is still open; at most every half second. The connection is
    a new one made from the settings (``connections.create_connection``): ``connection`` is a proxy."""

    def __init__(self, job: Job):
        self.job_pk = job.pk
        self.total = job.total
        self.conn = None
        self.last = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        try:
            if self.conn is None:
                self.conn = connections.create_connection(connection.alias)
            with self.conn.cursor() as cursor:
                cursor.execute(f'UPDATE "{Job._meta.db_table}" SET progress = %s, heartbeat_at = now() '  # noqa: S608
                               'WHERE id = %s', [min(done, self.total or done), self.job_pk])
        except Exception:  # progress is a courtesy: never fail an import over it
            logger.warning("import progress update failed", exc_info=True)

    def close(self) -> None:
        """Never raises: it runs in a ``finally`` after the result is saved, before the job is marked done."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                logger.warning("import progress connection did not close", exc_info=True)


def _job_fail(job: Job, message: str) -> None:
    job.status, job.error, job.finished_at = JobStatus.FAILED, message[:2000], timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def import_job_run(*, job_pk: int, report_progress: bool = True) -> Job | None:
    """Run an import job's phase (preview or commit). Safe to run again: a finished job is left alone,
    a commit already written is not written twice, anything else starts over."""
    job = Job.objects.select_related("user").filter(pk=job_pk, kind=JOB_KIND).first()
    if job is None or job.status == JobStatus.DONE:
        return job
    phase = job.params.get("phase", "preview")
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        if phase == "commit" and job.result.get("phase") == "commit" and job.result.get("committed") is not None:
            _job_finish(job, None)  # the write is done; only the error workbook was still missing
            return job
        job.status, job.error, job.progress, job.heartbeat_at = JobStatus.RUNNING, "", 0, timezone.now()
        job.save(update_fields=["status", "error", "progress", "heartbeat_at"])
        actor = job.user
        unit = OrgUnit.objects.filter(pk=job.params.get("unit")).first()
        if not actor.is_active or not actor.has_perm(PERMISSION) or unit is None:
            _job_fail(job, _("You may no longer import into this unit; nothing was written."))
            return job
        progress = _Progress(job) if report_progress else None
        report: ImportReport | None = None

        def committed(result: ImportReport) -> None:
            job.result = {"phase": phase, **result.as_json()}
            job.progress = job.total
            job.save(update_fields=["result", "progress"])

        try:
            with files.job_input_path(job) as path:
                report = veteran_import(actor=actor, path=path, unit=unit, commit=phase == "commit",
                                        atomic=bool(job.params.get("atomic")),
                                        file_name=job.params.get("file_name", ""), job=job, progress=progress,
                                        on_committed=committed)
            if phase != "commit":
                committed(report)
        except (ImportFileError, PermissionDenied) as exc:
            _job_fail(job, str(exc))
            return job
        except Exception:
            logger.exception("import job %s failed", job.pk)
            _job_fail(job, _("The import stopped because of an internal error; nothing was written. Try again or "
                             "ask the administrator."))
            return job
        finally:
            if progress is not None:
                progress.close()
        _job_finish(job, report)
    return job


def _job_finish(job: Job, report: ImportReport | None) -> None:
    """Attach the error workbook (when rows are bad) and mark the job done."""
    if report is None and job.result.get("errors") and not job.output_file:
        with files.job_input_path(job) as path:
            report = veteran_import(actor=job.user, path=path, unit=OrgUnit.objects.get(pk=job.params["unit"]),
                                    file_name=job.params.get("file_name", ""))
    if report is not None and report.errors:
        stem = Path(job.params.get("file_name") or "import").stem
        with tempfile.TemporaryDirectory() as folder, files.job_input_path(job) as path:
            out = os.path.join(folder, "errors.xlsx")
            error_workbook(path=path, report=report, file_name=job.params.get("file_name", ""), out=out)
            if job.output_file:
                job.output_file.delete(save=False)
            with open(out, "rb") as handle:  # the sheet holds full ID numbers: encrypted, under a random name
                files.job_output_store(job, handle, suffix=".xlsx")
        job.result = {**job.result, "filename": _("%(name)s-errors.xlsx") % {"name": stem}}
    job.status, job.finished_at = JobStatus.DONE, timezone.now()
    job.save(update_fields=["status", "finished_at", "output_file", "output_encrypted", "result"])


def import_jobs(*, user: User) -> Iterable[Job]:
    """The user's own imports, newest first."""
    return Job.objects.visible_to(user).filter(kind=JOB_KIND).order_by("-created_at")
