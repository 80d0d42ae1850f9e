"""Citizen ID numbers (公民身份号码, GB 11643): normalise, convert, validate, derive birth date and sex.

python-stdnum (``stdnum.cn.ric``) supplies the check digit, the birth date and the area-code table.
Its ``validate()`` is deliberately not the last word: it also demands that the county code existed
in the birth year, which rejects the valid numbers of veterans born before their county's code was
created (e.g. 南京栖霞区 320113, born 1950). The area code is the one in force when the number was
issued, so any code the table knows, in any year, is accepted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent


class IdNumberError(ValueError):
    """A number that cannot be a citizen ID; the message is for the user."""


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, upper-case X
    birth_date: date
    sex: str  # "M" or "F"
    area_code: str
    converted_from_15: bool = False

    @property
    def masked(self) -> str:
        return mask(self.number)


def normalize(raw: object) -> str:
    """Full-width digits and letters to ASCII, spaces and separators removed, ``x`` → ``X``."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(ch for ch in text if ch.isalnum()).upper()


def mask(number: str) -> str:
    """``320113********123X``: area code and the last four stay visible."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


@lru_cache(maxsize=8192)
def area_info(code: str) -> dict[str, str]:
    """Province, prefecture and county names of a 6-digit area code, merged over every period it was used."""
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code):
        info.update(props)
    return info


@lru_cache(maxsize=8192)
def _area_known(code: str) -> bool:
    return code.isdigit() and "county" in area_info(code)


def convert_15(number: str) -> str:
    """First-generation 15-digit number (YYMMDD, no check digit) → 18 digits: insert 19, add the check digit."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def parse(raw: object, *, today: date | None = None) -> IdNumber:
    """Validate an ID number as typed or imported and return it with what it says."""
    number = normalize(raw)
    if not number:
        raise IdNumberError(_("The ID number is empty."))
    converted = False
    if len(number) == 15:
        if not number.isdigit():
            raise IdNumberError(_("A 15-digit ID number has digits only."))
        number = convert_15(number)
        converted = True
    if len(number) != 18:
        raise IdNumberError(_("An ID number has 18 characters (or 15 digits for old numbers); this one has %(n)d.")
                            % {"n": len(number)})
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError(_("An ID number has 17 digits followed by a digit or X."))
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent:
        raise IdNumberError(_("The birth date in the ID number (%(d)s) does not exist.") % {"d": number[6:14]}) from None
    if birth > (today or date.today()) or birth.year < 1890:
        raise IdNumberError(_("The birth date in the ID number (%(d)s) is not possible.") % {"d": birth.isoformat()})
    if number[17] != ric.calc_check_digit(number):
        raise IdNumberError(_("The check digit of the ID number is wrong: check the number for a typing error."))
    if not _area_known(number[:6]):
        raise IdNumberError(_("The area code %(code)s of the ID number is unknown.") % {"code": number[:6]})
    sex = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex, area_code=number[:6], converted_from_15=converted)
