"""Cell values as stations write them: text tidied, numbers and codes normalised, dates in many forms.

Parsers take a raw cell (str, int, float, bool, datetime) and return the value or raise ``CellError`` with a
reason for the user. ``memo`` remembers answers per distinct cell value (coded columns and dates repeat).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import phone_validator

from .problems import CellError

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
CJK = re.compile(r"[\u3400-\u9fff]")
DATE_TEXT = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?$")
TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
FOOTER = re.compile(r"^(填表|制表|审核|合计|总计|小计|负责人|单位负责人|说明|注[:：]|备注[:：]|联系人|统计)")
YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "有"})
NO = frozenset({"否", "n", "no", "false", "0", "×", "无", "不是"})
FREE_TEXT_KINDS = frozenset({"text", "name"})  # never NFKC-normalised: （东门）： stays as written


def serial_to_datetime(value: float, date1904: bool = False) -> datetime | None:
    """An Excel serial day number as a datetime (1900 or 1904 system), None when out of range."""
    if not 0 < value < 2958466:
        return None
    base = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    return base + timedelta(days=value)

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


def memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Remember a converter's answer (or its error) per distinct cell value: coded columns and dates repeat."""
    cache: dict[tuple[type, Any], tuple[bool, Any]] = {}

    def memoized(raw: Any) -> Any:
        key = (type(raw), raw)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = (True, convert(raw))
            except CellError as exc:
                hit = (False, str(exc))
            if len(cache) < 100_000:
                cache[key] = hit
        if hit[0]:
            return hit[1]
        raise CellError(hit[1])

    return memoized


def as_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat(" ")
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw)


def code_key(text: str) -> str:
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
        raise CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not raw.is_integer() and 1900 <= raw < 2101:
            # 2008.12 typed into a "General" cell is stored as the number 2008.12; 2008.10 becomes 2008.1.
            whole, _dot, decimals = repr(raw).partition(".")
            if decimals == "1":
                raise CellError(_("%(value)s could mean January or October: write %(year)s.01 or %(year)s.10.")
                                 % {"value": repr(raw), "year": whole})
            if len(decimals) > 2:
                raise CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))
            return _checked_date(int(whole), int(decimals.ljust(1, "0")), None, raw, today)
        number = int(raw)
        if 19000101 <= number <= 21001231:
            return _checked_date(number // 10000, number // 100 % 100, number % 100, raw, today)
        if 190001 <= number <= 210012:
            return _checked_date(number // 100, number % 100, None, raw, today)
        if 1900 <= number <= 2100:
            raise CellError(_("Give the month as well, e.g. %(year)s.12.") % {"year": number})
        moment = serial_to_datetime(float(raw), date1904)
        if moment is None:
            raise CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))
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
            raise CellError(_("Give the month as well, e.g. %(year)s.12.") % {"year": text})
        if len(text) == 5:  # an Excel serial that reached a CSV file
            return parse_date(int(text), date1904=date1904, today=today)
    raise CellError(_("Not a date: write it like 2008-12-01 or 2008.12."))


def _checked_date(year: int, month: int, day: int | None, raw: Any, today: date) -> ParsedDate:
    try:
        value = date(year, month, day or 1)
    except ValueError:
        raise CellError(_("There is no such date: %(value)s.") % {"value": as_text(raw)}) from None
    if year < 1900:
        raise CellError(_("The date %(date)s is not plausible.") % {"date": value.isoformat()})
    if value > today:
        raise CellError(_("The date %(date)s is in the future.") % {"date": value.isoformat()})
    return ParsedDate(value, "day" if day else "month")


def parse_bool(raw: Any) -> bool:
    key = as_text(raw).strip().lower()
    if key in YES:
        return True
    if key in NO:
        return False
    raise CellError(_("Write 是 or 否."))


def parse_phone(raw: Any) -> str:
    if isinstance(raw, float) and not raw.is_integer():
        raise CellError(_("Not a phone number: give an 11-digit mobile number or a landline with its area code."))
    text = "".join(clean_text(as_text(raw)).split()).replace("(", "").replace(")", "")
    if text.startswith("+86"):
        text = text[3:]
    if not phone_validator.regex.match(text):
        raise CellError(_("Not a phone number: give an 11-digit mobile number or a landline with its area code."))
    return text


def text_parser(kind: str, max_length: int | None) -> Callable[[Any], str]:
    """Free text (kept as typed), a name (spacing tidied: 张　三 → 张三) or an ident (a number or code written as
    text, normalised), at most ``max_length`` characters."""
    squeeze = kind == "name"
    tidy = clean_text if kind == "ident" else tidy_text

    def text(raw: Any) -> str:
        value = tidy(as_text(raw))
        if squeeze:
            value = "".join(value.split()) if CJK.search(value) else " ".join(value.split())
        if max_length and len(value) > max_length:
            raise CellError(_("Too long: at most %(n)d characters.") % {"n": max_length})
        return value

    return text


def is_blank(values: list) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def is_numbering_row(values: list) -> bool:
    """A row of column numbers under the header (1, 2, 3… or (1), (2)…), as official forms have."""
    numbers = []
    for value in values:
        if value is None or value == "":
            continue
        text = clean_text(as_text(value)).strip("()")
        if not text.isdigit():
            return False
        numbers.append(int(text))
    return len(numbers) >= 3 and all(b > a for a, b in zip(numbers, numbers[1:], strict=False))

