"""ID numbers: check digit, birth date, area codes (including codes younger than the person), 15→18."""

from datetime import date

import pytest
from stdnum.cn import ric

from apps.registry import idnumber
from tests.registry.factories import id_number


def test_valid_number_gives_birth_date_and_sex():
    number = id_number("19800101", sequence=13)
    parsed = idnumber.parse(number)
    assert parsed.number == number
    assert parsed.birth_date == date(1980, 1, 1)
    assert parsed.sex == "M"
    assert idnumber.parse(id_number("19800101", sequence=14)).sex == "F"


def test_county_code_younger_than_the_person_is_accepted():
    """栖霞区 320113 dates from 1983; a veteran born there in 1950 has a valid number (docs/domain.md)."""
    number = id_number("19500101", area="320113")
    assert not ric.is_valid(number)  # stdnum's validate() rejects it ...
    assert idnumber.parse(number).birth_date == date(1950, 1, 1)  # ... we accept it


@pytest.mark.parametrize("raw", ["３２０１１１１９８００１０１０１３Ｘ", " 320111 1980 0101 013x "])
def test_full_width_spaces_and_lower_case_x_are_normalised(raw):
    assert idnumber.normalize(raw) == "32011119800101013X"


def test_fifteen_digit_number_is_converted():
    old = "320111800101013"
    parsed = idnumber.parse(old)
    assert parsed.converted_from_15
    assert parsed.number[:17] == "32011119800101013"
    assert parsed.number[17] == ric.calc_check_digit(parsed.number)


@pytest.mark.parametrize("raw, message", [  # the reasons users read, in Chinese
    ("", "为空"),
    ("32011119800101", "应为 18 位"),
    ("3201111980010101AX", "17 位数字"),
    ("320111198002300133", "19800230）不存在"),
    ("320111203001010133", "不合理"),
])
def test_malformed_numbers_are_refused_with_a_reason(raw, message):
    with pytest.raises(idnumber.IdNumberError, match=message):
        idnumber.parse(raw)


def test_wrong_check_digit_is_refused():
    good = id_number("19800101")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(idnumber.IdNumberError, match="校验位错误"):
        idnumber.parse(bad)


def test_unknown_area_code_is_refused():
    body = "999999198001010130"[:17]
    with pytest.raises(idnumber.IdNumberError, match="地区码 999999"):
        idnumber.parse(body + ric.calc_check_digit(body + "0"))


def test_mask_keeps_area_and_last_four():
    assert idnumber.mask("32011319500101123X") == "320113********123X"
