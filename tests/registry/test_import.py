"""Veteran import: one sheet per fault, built here; idempotent re-import; all or nothing; the error workbook;
the command. Sheets are written with openpyxl (xlsx), xlwt (xls) or as bytes (csv)."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import threading
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import psycopg
import pytest
from django.apps import apps
from django.core.files import File
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation
from pghistory.models import Context

from apps.core.choices import JobStatus
from apps.core.imports import engine, workbooks
from apps.core.imports.reading import Source
from apps.core.models import Job, OrgUnit
from apps.registry import importing
from apps.registry.models import Code, Veteran
from tests.conftest import ROOT
from tests.registry.factories import id_number, make_veteran

CHUNK_ROWS = engine.CHUNK + 3  # more than one chunk: the trigger goes off and on twice

HEADER = ["姓名", "公民身份号码", "性别", "民族", "人员类别", "入伍时间", "退役时间", "联系电话"]


# --- sheet builders (also used by the other import test modules) ------------------------------------------


def person(name: str = "张伟", *, birth: str = "19800101", sequence: int | None = None, **cells) -> list:
    """One data row under HEADER; ``cells`` override by header name."""
    values = {"姓名": name, "公民身份号码": id_number(birth, sequence=sequence), "性别": None, "民族": "汉族",
              "人员类别": "退役士兵", "入伍时间": "1998.12", "退役时间": "2003年12月", "联系电话": "13812345678"}
    values.update(cells)
    return [values[h] for h in HEADER]


def write_xlsx(path: Path, rows: list[list], *, formats: dict[tuple[int, int], str] | None = None) -> Path:
    """An xlsx with the given rows from A1; ``formats`` maps (row, column), 1-based, to a number format."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "花名册"
    for row in rows:
        ws.append(row)
    for (r, c), fmt in (formats or {}).items():
        ws.cell(r, c).number_format = fmt
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xls(path: Path, rows: list[list]) -> Path:
    xlwt = pytest.importorskip("xlwt")
    workbook = xlwt.Workbook(encoding="utf-8")
    ws = workbook.add_sheet("花名册")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (date, datetime)):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    workbook.save(str(path))
    return path


def run(path: Path, user, unit, **kwargs) -> importing.ImportReport:
    with translation.override("en"):
        return importing.veteran_import(actor=user, path=path, unit=unit, file_name=path.name, **kwargs)


def problems(report: importing.ImportReport) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in report.problems]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def station(users, tree):
    """The village A1 station user and their unit."""
    return users["village_a1"], tree["village_a1"]


# --- a clean sheet ----------------------------------------------------------------------------------------


def test_dry_run_counts_and_writes_nothing(station, tmp_path):
    user, unit = station
    path = write_xlsx(tmp_path / "ok.xlsx", [HEADER, person("张伟"), person("李娜", sequence=2), person("王强")])
    report = run(path, user, unit)
    assert (report.rows, report.valid, report.errors, report.created, report.updated) == (3, 3, 0, 3, 0)
    assert report.header_row == 1 and report.problems == []
    assert Veteran.objects.count() == 0


def test_commit_writes_encrypted_records_with_pinyin_categories_and_history(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=11)
    path = write_xlsx(tmp_path / "ok.xlsx", [HEADER, person("张伟", 公民身份号码=number, 性别="男")])
    report = run(path, user, unit, commit=True)
    assert report.committed and report.created == 1
    veteran = Veteran.objects.get()
    assert veteran.id_number == number and veteran.id_number_encrypted != number
    assert veteran.id_number_masked == number[:6] + "********" + number[-4:]
    assert (veteran.name_pinyin, veteran.name_initials) == ("zhangwei", "zw")
    assert (veteran.sex, veteran.birth_date, veteran.org_unit) == ("M", date(1980, 1, 1), unit)
    assert (veteran.enlist_date, veteran.discharge_date) == (date(1998, 12, 1), date(2003, 12, 1))
    assert veteran.ethnic.name == "汉族" and veteran.phone == "13812345678"
    assert veteran.primary_category.name == "退役士兵"
    assert list(veteran.categories.values_list("name", flat=True)) == ["退役士兵"]
    assert veteran.created_by == user
    event = veteran.events.get()
    assert event.pgh_label == "insert"
    assert Context.objects.get(pk=event.pgh_context_id).metadata["user"] == user.pk


def test_history_of_a_large_import_matches_the_records_and_the_trigger_is_back_on(station, tmp_path):
    """Inserted records get their history set-based (the row trigger is off during the COPY): one "insert"
    event per record, equal to the record, under the import's context; afterwards the trigger records again."""
    user, unit = station
    rows = [person(f"测{i}", birth=(date(1960, 1, 1) + timedelta(days=i)).strftime("%Y%m%d"), sequence=11, 性别="男")
            for i in range(CHUNK_ROWS)]
    report = run(write_xlsx(tmp_path / "many.xlsx", [HEADER, *rows]), user, unit, commit=True)
    assert report.created == len(rows)
    for veteran in Veteran.objects.all():
        event = veteran.events.get()
        assert (event.pgh_label, event.name, event.id_number_hash, event.name_pinyin, event.org_unit_id) == (
            "insert", veteran.name, veteran.id_number_hash, veteran.name_pinyin, veteran.org_unit_id)
    contexts = set(Veteran.events.rel.related_model.objects.values_list("pgh_context_id", flat=True))
    assert len(contexts) == 1 and Context.objects.get(pk=contexts.pop()).metadata["user"] == user.pk
    # Each category link gets its "added" event too, written set-based under the same context, once.
    links = set(Veteran.categories.through.objects.values_list("veteran_id", "code_id"))
    link_events = apps.get_model("registry", "VeteranCategoriesEvent").objects
    assert len(links) == len(rows)
    assert set(link_events.values_list("veteran_id", "code_id")) == links and link_events.count() == len(links)
    assert set(link_events.values_list("pgh_label", flat=True)) == {"categories.add"}
    assert set(link_events.values_list("pgh_context_id", flat=True)) == set(
        Veteran.events.rel.related_model.objects.values_list("pgh_context_id", flat=True))
    later = make_veteran(unit, name="之后")
    assert later.events.filter(pgh_label="insert").count() == 1
    # …and the link trigger records again after the import.
    later.categories.add(Code.objects.filter(kind="category").exclude(pk__in=later.categories.all()).first())
    assert link_events.filter(veteran_id=later.pk, pgh_label="categories.add").count() == later.categories.count()


# --- one sheet per fault ----------------------------------------------------------------------------------


def test_title_rows_above_the_header(station, tmp_path):
    user, unit = station
    rows = [["甲一社区退役军人信息采集表"], ["填报单位：甲一社区", None, None, "2024年"], [],
            HEADER, person("张伟"), person("李娜", 公民身份号码="123")]
    report = run(write_xlsx(tmp_path / "title.xlsx", rows), user, unit)
    assert report.header_row == 4
    assert [(p.row, p.column) for p in report.problems] == [(6, "公民身份号码")]  # the row number Excel shows


def test_shuffled_columns_with_other_names(station, tmp_path):
    user, unit = station
    number = id_number("19750505", sequence=21)
    header = ["现居住地址", "手机号码", "身份证号码", "序号", "信息采集类别", "出生年月", "姓名", "安置方式"]
    row = ["栖霞区某路1号", "13900001111", number, 1, "复员军人", "1975.05", "赵刚", "自主就业"]
    report = run(write_xlsx(tmp_path / "shuffled.xlsx", [header, row]), user, unit, commit=True)
    assert report.valid == 1, problems(report)
    assert report.ignored_columns == ["序号"]
    veteran = Veteran.objects.get()
    assert (veteran.name, veteran.address, veteran.phone) == ("赵刚", "栖霞区某路1号", "13900001111")
    assert veteran.primary_category.name == "复员军人" and veteran.discharge_mode.name == "自主就业"


def test_full_width_characters_and_stray_spaces(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=31)
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    header = [" 姓 名 ", "公民身份号码（18位）", "性别　", "民族", "人员类别", "联系电话"]
    row = ["张　三 ", f" {full_width} ", " 男", "汉族 ", "退役士兵\u3000", "１３８ １２３４ ５６７８"]
    report = run(write_xlsx(tmp_path / "fullwidth.xlsx", [header, row]), user, unit, commit=True)
    assert report.valid == 1, problems(report)
    veteran = Veteran.objects.get()
    assert (veteran.name, veteran.id_number, veteran.phone) == ("张三", number, "13812345678")


def test_free_text_is_kept_as_written(station, tmp_path):
    """Addresses, remarks and other free text keep full-width punctuation and their spacing (only the ends are
    trimmed); ID numbers, phones, dates and codes are normalised."""
    user, unit = station
    number = id_number("19800101", sequence=33)
    header = ["姓名", "公民身份号码", "人员类别", "常住地址", "户籍地址", "备注", "安置单位", "部队代号", "联系电话",
              "入伍时间"]
    address = "浦口区星甸街道（东门）：幸福路１号　3栋"
    notes = "家属说明：“已核实”，２０２４年复查；电话（白天）"
    row = ["张　伟", number.translate(str.maketrans("0123456789", "０１２３４５６７８９")), "退役士兵",
           f" {address}\u200b ", "江苏省南京市（原江浦县）", notes, "南京某公司（国企）", "３５２０１部队",
           "（025）5812 3456", "１９９８．１２"]
    report = run(write_xlsx(tmp_path / "text.xlsx", [header, row]), user, unit, commit=True)
    assert report.valid == 1, problems(report)
    veteran = Veteran.objects.get()
    assert (veteran.name, veteran.id_number) == ("张伟", number)
    assert veteran.address == address and veteran.notes == notes
    assert veteran.hukou_address == "江苏省南京市（原江浦县）" and veteran.placement_unit == "南京某公司（国企）"
    assert (veteran.troop_code, veteran.phone, veteran.enlist_date) == ("35201部队", "02558123456", date(1998, 12, 1))
    report = run(write_xlsx(tmp_path / "again.xlsx", [header, row]), user, unit, commit=True)
    assert (report.updated, report.unchanged) == (1, 1)  # the same text is no change


@pytest.mark.parametrize(("cell", "fmt", "expected"), [
    ("2008.12", None, date(2008, 12, 1)),
    ("2013年12月", None, date(2013, 12, 1)),
    ("2003/12/01", None, date(2003, 12, 1)),
    ("2003-12-01", None, date(2003, 12, 1)),
    ("2003年12月5日", None, date(2003, 12, 5)),
    (datetime(2003, 12, 1), "yyyy-mm-dd", date(2003, 12, 1)),  # a real Excel date
    (39783, None, date(2008, 12, 1)),  # an Excel serial in a number cell
    (2008.12, None, date(2008, 12, 1)),  # 2008.12 typed into a "General" cell became a number
    ("20031201", None, date(2003, 12, 1)),
])
def test_each_date_format(station, tmp_path, cell, fmt, expected):
    user, unit = station
    formats = {(2, 6): fmt} if fmt else None
    path = write_xlsx(tmp_path / "date.xlsx", [HEADER, person("张伟", 入伍时间=cell, 退役时间=None)], formats=formats)
    report = run(path, user, unit, commit=True)
    assert report.valid == 1, problems(report)
    assert Veteran.objects.get().enlist_date == expected


@pytest.mark.parametrize(("cell", "reason"), [
    (2008.1, "could mean January or October"),
    ("2008", "Give the month as well"),
    ("2008.13", "There is no such date"),
    ("十二月", "Not a date"),
    ("2099-01-01", "in the future"),
])
def test_bad_dates(station, tmp_path, cell, reason):
    user, unit = station
    report = run(write_xlsx(tmp_path / "date.xlsx", [HEADER, person("张伟", 入伍时间=cell)]), user, unit)
    [(row, column, text)] = problems(report)
    assert (row, column) == (2, "入伍时间") and reason in text


def test_excel_serial_in_csv(station, tmp_path):
    user, unit = station
    path = write_csv(tmp_path / "serial.csv", [HEADER, person("张伟", 入伍时间="39783", 退役时间="41609")])
    report = run(path, user, unit, commit=True)
    assert report.valid == 1, problems(report)
    veteran = Veteran.objects.get()
    assert (veteran.enlist_date, veteran.discharge_date) == (date(2008, 12, 1), date(2013, 12, 1))


def test_id_number_stored_as_a_number_is_an_error_never_stored(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=41)
    rows = [HEADER, person("张伟", 公民身份号码=int(number[:17] + "0")), person("李娜", sequence=42)]
    report = run(write_xlsx(tmp_path / "numeric.xlsx", rows), user, unit, commit=True)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "公民身份号码") and "stored as a number" in reason
    assert list(Veteran.objects.values_list("name", flat=True)) == ["李娜"]


def test_id_number_in_scientific_notation_from_csv_is_an_error(station, tmp_path):
    user, unit = station
    report = run(write_csv(tmp_path / "sci.csv", [HEADER, person("张伟", 公民身份号码="3.20111E+17")]), user, unit)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "公民身份号码") and "stored as a number" in reason


def test_fifteen_digit_id_is_converted(station, tmp_path):
    user, unit = station
    old_text, old_number = "320111800101123", 320111750202124  # a 15-digit number survives a number cell
    rows = [HEADER, person("张伟", 公民身份号码=old_text), person("李娜", 公民身份号码=old_number)]
    report = run(write_xlsx(tmp_path / "old.xlsx", rows), user, unit, commit=True)
    assert report.valid == 2, problems(report)
    numbers = {v.name: v.id_number for v in Veteran.objects.all()}
    assert numbers["张伟"].startswith("32011119800101123") and len(numbers["张伟"]) == 18
    assert numbers["李娜"].startswith("32011119750202124")
    assert Veteran.objects.get(name="李娜").sex == "F"


def test_bad_check_digit(station, tmp_path):
    user, unit = station
    good = id_number("19800101", sequence=51)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    report = run(write_xlsx(tmp_path / "check.xlsx", [HEADER, person("张伟", 公民身份号码=bad)]), user, unit)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "公民身份号码") and "check digit" in reason


def test_unknown_code_value_names_the_column_and_the_choices(station, tmp_path):
    user, unit = station
    report = run(write_xlsx(tmp_path / "code.xlsx", [HEADER, person("张伟", 民族="汉人")]), user, unit)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "民族")
    assert "汉人" in reason and "汉族、蒙古族" in reason and "56" in reason


def test_code_values_written_other_ways_are_matched(station, tmp_path):
    user, unit = station
    header = [*HEADER, "政治面貌", "文化程度", "退役方式", "军种"]
    row = [*person("张伟", 民族="汉"), "党员", "本科", "计划分配", "武警"]
    report = run(write_xlsx(tmp_path / "alias.xlsx", [header, row]), user, unit, commit=True)
    assert report.valid == 1, problems(report)
    veteran = Veteran.objects.get()
    assert [veteran.ethnic.name, veteran.political.name, veteran.education.name, veteran.discharge_mode.name,
            veteran.branch.name] == ["汉族", "中共党员", "大学本科", "转业(计划分配)", "武警部队"]


def test_rows_naming_units_outside_the_scope_are_errors(station, tree, tmp_path):
    user, unit = station
    header = [*HEADER, "所属村(社区)"]
    rows = [header,
            [*person("张伟"), "320111001001"],  # own unit by code
            [*person("李娜", sequence=62), "甲一社区"],  # own unit by name
            [*person("王强"), "320111002001"],  # village B1: another street
            [*person("赵刚"), "320111001201 甲二村"],  # sibling village
            [*person("钱进"), "320111009999"]]  # no such unit
    report = run(write_xlsx(tmp_path / "units.xlsx", rows), user, unit, commit=True)
    assert report.valid == 2
    found = {row: reason for row, column, reason in problems(report) if column == "所属村(社区)"}
    assert "outside your area" in found[4] and "乙一社区" in found[4]
    assert "outside your area" in found[5]
    assert "No unit has the division code 320111009999" in found[6]
    assert set(Veteran.objects.values_list("org_unit", flat=True)) == {unit.pk}


def test_a_street_imports_into_its_villages(users, tree, tmp_path):
    header = [*HEADER, "所属社区"]
    rows = [header, [*person("张伟"), "甲一社区"], [*person("李娜", sequence=72), "320111001201"], person("王强") + [None]]
    report = run(write_xlsx(tmp_path / "street.xlsx", rows), users["street_a"], tree["street_a"], commit=True)
    assert report.valid == 3, problems(report)
    units = dict(Veteran.objects.values_list("name", "org_unit__name"))
    assert units == {"张伟": "甲一社区", "李娜": "甲二村", "王强": "甲街道"}


def test_duplicate_id_in_the_sheet_is_an_error_on_the_later_row(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=81)
    rows = [HEADER, person("张伟", 公民身份号码=number), person("李娜", sequence=82),
            person("张伟", 公民身份号码=number.lower())]
    report = run(write_xlsx(tmp_path / "dup.xlsx", rows), user, unit, commit=True)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (4, "公民身份号码") and "row 2" in reason
    assert Veteran.objects.count() == 2


def test_sex_and_birth_date_contradicting_the_id(station, tmp_path):
    user, unit = station
    header = [*HEADER, "出生日期"]
    rows = [header,
            [*person("张伟", sequence=91, 性别="女"), "1980-01-01"],  # odd sequence: male
            [*person("李娜", sequence=92, 性别="女"), "1981-01-01"],
            [*person("王强", sequence=93, 性别="男"), "1980.01"],  # month precision agrees
            [*person("赵刚", sequence=95, 性别="未知"), None]]
    report = run(write_xlsx(tmp_path / "sex.xlsx", rows), user, unit)
    assert report.valid == 1
    assert [(r, c) for r, c, _reason in problems(report)] == [(2, "性别"), (3, "出生日期"), (5, "性别")]
    assert "contradicts the ID number" in report.problems[0].reason


def test_rank_must_belong_to_the_military_category_and_gives_it(station, tmp_path):
    user, unit = station
    header = [*HEADER, "军人类别", "军衔"]
    rows = [header, [*person("张伟"), "义务兵", "少校"], [*person("李娜", sequence=102), None, "上等兵"]]
    report = run(write_xlsx(tmp_path / "rank.xlsx", rows), user, unit, commit=True)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "军衔") and "does not belong" in reason
    veteran = Veteran.objects.get()
    assert (veteran.rank.name, veteran.military_category.name) == ("上等兵", "义务兵")


def test_tags_and_required_category_for_new_records(station, tmp_path):
    user, unit = station
    header = [*HEADER, "人员标签"]
    rows = [header, [*person("张伟"), "重点关注、志愿者"], [*person("李娜", sequence=112, 人员类别=None), None],
            [*person("王强"), "重点关注，不存在的标签"]]
    report = run(write_xlsx(tmp_path / "tags.xlsx", rows), user, unit, commit=True)
    assert [(r, c) for r, c, _reason in problems(report)] == [(3, "人员类别"), (4, "人员标签")]
    assert set(Veteran.objects.get().tags.values_list("name", flat=True)) == {"重点关注", "志愿者"}


def test_footers_repeated_headers_and_numbering_rows_are_skipped(station, tmp_path):
    user, unit = station
    rows = [HEADER, list(range(1, len(HEADER) + 1)), person("张伟"), HEADER, person("李娜", sequence=122),
            ["合计：2人"], ["填表人：王某", None, None, "审核人：李某"]]
    report = run(write_xlsx(tmp_path / "footer.xlsx", rows), user, unit)
    assert (report.rows, report.valid, report.errors, report.skipped) == (2, 2, 0, 4)


def test_a_sheet_without_a_header_or_a_required_column(station, tmp_path):
    user, unit = station
    with pytest.raises(importing.ImportFileError, match="No header row"):
        run(write_xlsx(tmp_path / "none.xlsx", [["一", "二"], ["张伟", "x"]]), user, unit)
    with pytest.raises(importing.ImportFileError, match="公民身份号码"):
        run(write_xlsx(tmp_path / "noid.xlsx", [["姓名", "性别", "民族"], ["张伟", "男", "汉族"]]), user, unit)
    with pytest.raises(importing.ImportFileError, match="no data rows"):
        run(write_xlsx(tmp_path / "empty.xlsx", [HEADER]), user, unit)
    with pytest.raises(importing.ImportFileError, match="web page"):
        path = tmp_path / "page.xls"
        path.write_bytes(b"<html><table><tr><td>x</td></tr></table></html>")
        run(path, user, unit)


def test_an_empty_file_or_workbook_is_called_empty(station, tmp_path):
    """Not "damaged or protected by a password", not "no header row": empty."""
    user, unit = station
    for name in ("empty.xlsx", "empty.csv", "empty.xls"):
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(importing.ImportFileError, match=r"^The file is empty \(0 bytes\)"):
            run(path, user, unit)
    path = tmp_path / "blank.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["C7"].number_format = "@"  # a formatted cell holds nothing
    workbook.create_sheet("Sheet2")
    workbook.save(path)
    with pytest.raises(importing.ImportFileError, match=r"^The sheet is empty: no cell is filled in"):
        run(path, user, unit)
    blank_rows = [[None]] * 12 + [HEADER, person("张伟", sequence=271)]  # a header too far down is not "empty"
    with pytest.raises(importing.ImportFileError, match="No header row"):
        run(write_xlsx(tmp_path / "low.xlsx", [[" "] for _row in blank_rows[:12]] + blank_rows[12:]), user, unit)


def test_a_formula_without_a_saved_value_is_named_as_such(station, tmp_path):
    """A sheet written by a program keeps formulas without their results: say so, not "Required." """
    user, unit = station
    rows = [HEADER, person('="张"&"伟"', sequence=281), person("李娜", sequence=283, 民族="=D2"),
            person("王强", sequence=285, 人员类别="=IF(1,\"退役士兵\")")]
    path = write_xlsx(tmp_path / "formulas.xlsx", rows)
    report = run(path, user, unit)
    reasons = problems(report)
    assert [(row, column) for row, column, _reason in reasons] == [(2, "姓名"), (3, "民族"), (4, "人员类别")]
    assert all(reason.startswith("The cell holds a formula without a saved value") for _r, _c, reason in reasons)
    assert (report.rows, report.valid) == (3, 0)
    # Saved by Excel, a formula carries its result (text results typed t="str"), read as the value.
    rows = [HEADER, person("李娜", sequence=287, 民族='="汉"&"族"'), person("王强", sequence=289, 人员类别="=1")]
    path = write_xlsx(tmp_path / "saved.xlsx", rows)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet, replaced = re.subn(r'<c r="D2"><f>([^<]*)</f><v\s*/>', r'<c r="D2" t="str"><f>\1</f><v>汉族</v>', sheet)
    assert replaced == 1
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    report = run(path, user, unit)
    assert [(row, column) for row, column, _reason in problems(report)] == [(3, "人员类别")]
    assert report.valid == 1


def rezip(path: Path, *, sheet=None, padding: int = 0, extra_entries: int = 0) -> bytes:
    """The xlsx at ``path`` rebuilt in memory: its sheet XML passed through ``sheet`` and followed by ``padding``
    spaces (highly compressible: a zip bomb), plus ``extra_entries`` tiny parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = sheet(text) if sheet else text
                head, tail = text.rsplit("</worksheet>", 1)
                with out.open(info.filename, "w", force_zip64=True) as member:
                    member.write(head.encode())
                    block = b" " * (1 << 20)
                    for _block in range(padding >> 20):
                        member.write(block)
                    member.write(b"</worksheet>" + tail.encode())
            else:
                out.writestr(info, data)
        for n in range(extra_entries):
            out.writestr(f"customXml/item{n}.xml", "<a/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("build", "reason"), [
    ({"padding": 600 << 20}, r"^The workbook expands to 600 MB when opened, more than the 500 MB"),  # 600 KB file
    ({"padding": 40 << 20}, r"^The workbook is not an ordinary Excel file: its part xl/worksheets/sheet1.xml "
                            r"expands [\d,]+ times, to 40 MB"),
    ({"extra_entries": 3000}, r"^The file is not an ordinary Excel workbook \(it holds 3\d{3} parts\)"),
    ({"sheet": lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml)},
     r"^The sheet holds 209,715,200 cells \(A1:XFD1048576\), more than the 10,000,000 an import reads"),
])
def test_zip_bombs_are_refused_before_they_are_read(station, tmp_path, build, reason):
    """Declared sizes, compression ratio, parts and declared cells are checked before anything is inflated."""
    user, unit = station
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(rezip(write_xlsx(tmp_path / "small.xlsx", [HEADER, person("张伟", sequence=291)]), **build))
    assert path.stat().st_size < 2 << 20
    with translation.override("en"), pytest.raises(importing.ImportFileError, match=reason):
        Source(path).estimate_rows()  # what the upload does in the request
    with pytest.raises(importing.ImportFileError, match=reason):
        run(path, user, unit, commit=True)  # the background task and the command
    assert Veteran.objects.count() == 0


def test_cells_are_counted_while_reading_when_the_sheet_declares_no_range(station, tmp_path, settings):
    user, unit = station
    settings.REGISTRY_IMPORT_MAX_CELLS = 50
    rows = [HEADER, *[person(f"张{i}", sequence=300 + i) for i in range(10)]]
    path = tmp_path / "nodim.xlsx"
    path.write_bytes(rezip(write_xlsx(tmp_path / "rows.xlsx", rows),
                           sheet=lambda xml: re.sub(r"<dimension [^>]*/>", "", xml)))
    assert Source(path).estimate_rows() == 11  # counted: a small sheet without a declared range
    with pytest.raises(importing.ImportFileError, match=r"^The sheet holds 5\d cells \(read up to row [67]\)"):
        run(path, user, unit)
    settings.REGISTRY_IMPORT_MAX_CELLS = 10_000
    assert run(path, user, unit).valid == 10


# --- re-import, updates, scope of existing records ------------------------------------------------------


def test_reimporting_the_same_sheet_updates_and_never_duplicates(station, tmp_path):
    user, unit = station
    rows = [HEADER, person("张伟", sequence=131), person("李娜", sequence=132)]
    path = write_xlsx(tmp_path / "again.xlsx", rows)
    first = run(path, user, unit, commit=True)
    second = run(path, user, unit, commit=True)
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated, second.unchanged, second.valid) == (0, 2, 2, 2)
    assert Veteran.objects.count() == 2
    veteran = Veteran.objects.get(name="张伟")
    assert veteran.events.count() == 1  # nothing changed: no new history
    rows[1][HEADER.index("联系电话")] = "13900009999"
    changed = run(write_xlsx(tmp_path / "changed.xlsx", rows), user, unit, commit=True)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 1)
    veteran.refresh_from_db()
    assert veteran.phone == "13900009999"
    assert list(veteran.events.order_by("pgh_id").values_list("pgh_label", flat=True)) == ["insert", "update"]
    assert Veteran.objects.count() == 2


def test_empty_cells_keep_what_is_recorded(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=141)
    make_veteran(unit, name="张伟", id_number=number, phone="13711112222", address="旧地址")
    header = ["姓名", "公民身份号码", "联系电话", "常住地址", "民族"]
    report = run(write_xlsx(tmp_path / "blank.xlsx", [header, ["张伟", number, None, "新地址", "回族"]]), user, unit,
                 commit=True)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0), problems(report)
    veteran = Veteran.objects.get()
    assert (veteran.phone, veteran.address, veteran.ethnic.name) == ("13711112222", "新地址", "回族")
    assert veteran.primary_category.name == "退役士兵"  # not in the sheet: kept; not required for an update


def test_a_record_kept_by_another_unit_is_not_updated(station, tree, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=151)
    other = make_veteran(tree["village_b1"], name="张伟", id_number=number)
    report = run(write_xlsx(tmp_path / "other.xlsx", [HEADER, person("张伟改", 公民身份号码=number)]), user, unit,
                 commit=True)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "公民身份号码")
    assert "another unit" in reason and "乙" not in reason  # the unit is not named to someone who cannot see it
    other.refresh_from_db()
    assert other.name == "张伟"


def test_moving_a_record_to_another_unit_needs_a_transfer(users, tree, tmp_path):
    number = id_number("19800101", sequence=161)
    make_veteran(tree["village_a1"], name="张伟", id_number=number)
    rows = [[*HEADER, "所属村(社区)"], [*person("张伟", 公民身份号码=number), "甲二村"]]
    report = run(write_xlsx(tmp_path / "move.xlsx", rows), users["street_a"], tree["street_a"], commit=True)
    [(row, column, reason)] = problems(report)
    assert (row, column) == (2, "所属村(社区)") and "甲一社区" in reason and "transfer" in reason
    assert Veteran.objects.get().org_unit == tree["village_a1"]


def test_all_or_nothing(station, tmp_path):
    user, unit = station
    rows = [HEADER, person("张伟", sequence=171), person("李娜", 公民身份号码="bad"), person("王强", sequence=173)]
    path = write_xlsx(tmp_path / "atomic.xlsx", rows)
    report = run(path, user, unit, commit=True, atomic=True)
    assert report.rolled_back and not report.committed
    assert (report.rows, report.valid, report.errors, report.created, report.updated) == (3, 2, 1, 0, 0)
    assert Veteran.objects.count() == 0
    report = run(path, user, unit, commit=True)
    assert report.committed and report.created == 2
    assert Veteran.objects.count() == 2


def test_all_or_nothing_rolls_back_rows_written_before_the_bad_one(station, tmp_path, monkeypatch):
    user, unit = station
    monkeypatch.setattr(engine, "CHUNK", 2)  # the first chunk is written before the bad row is read
    rows = [HEADER, person("张伟", sequence=181), person("王强", sequence=183), person("李娜", 公民身份号码="bad")]
    report = run(write_xlsx(tmp_path / "late.xlsx", rows), user, unit, commit=True, atomic=True)
    assert report.rolled_back and report.errors == 1
    assert Veteran.objects.count() == 0


def test_an_import_spanning_several_chunks(station, tmp_path, monkeypatch):
    user, unit = station
    monkeypatch.setattr(engine, "CHUNK", 3)
    number = id_number("19700101", sequence=191)
    rows = [HEADER] + [person(f"张{i}", sequence=200 + i) for i in range(10)] + [person("重复", 公民身份号码=number),
                                                                                 person("重复", 公民身份号码=number)]
    report = run(write_xlsx(tmp_path / "chunks.xlsx", rows), user, unit, commit=True)
    assert (report.rows, report.valid, report.errors, report.created) == (12, 11, 1, 11)
    assert report.problems[0].row == 13
    assert Veteran.objects.count() == 11


# --- other writers during an import ---------------------------------------------------------------------


def other_connection(**settings) -> psycopg.Connection:
    """A second connection to the test database with every option Django's connection uses."""
    params = connection.get_connection_params()
    return psycopg.connect(**params, autocommit=True, **settings)


@pytest.mark.django_db(transaction=True)
def test_an_import_does_not_block_writers_of_other_records(station, tmp_path):
    """While an import's transaction is open (records written, not yet committed), another connection updates
    another record at once (no table lock), and that update keeps its own history."""
    user, unit = station
    other_person = make_veteran(unit, name="别人", phone="13800000000")
    rows = [person(f"并{i}", birth=(date(1961, 1, 1) + timedelta(days=i)).strftime("%Y%m%d"), sequence=11, 性别="男")
            for i in range(30)]
    raced: list[int] = []

    def race(_report) -> None:
        with other_connection() as other:
            other.execute("SET lock_timeout = '2s'")
            cursor = other.execute(f'UPDATE "{Veteran._meta.db_table}" SET phone = %s WHERE id = %s',  # noqa: S608
                                   ["13900000000", other_person.pk])
            raced.append(cursor.rowcount)

    report = run(write_xlsx(tmp_path / "race.xlsx", [HEADER, *rows]), user, unit, commit=True, on_committed=race)
    assert report.committed and report.created == 30 and raced == [1]
    other_person.refresh_from_db()
    assert other_person.phone == "13900000000"
    assert other_person.events.filter(pgh_label="update", phone="13900000000").exists()
    assert Veteran.events.rel.related_model.objects.filter(pgh_label="insert").count() == 31


@pytest.mark.django_db(transaction=True)
def test_overlapping_imports_of_the_same_people_say_someone_registered_them_meanwhile(station, tmp_path,
                                                                                     monkeypatch):
    """Import B looks the people up (nobody yet), import A registers them and commits while B writes: B stops with
    a message naming the row, not an internal error, and writes nothing; importing again updates them."""
    user, unit = station
    rows = [HEADER, person("张伟", sequence=901), person("李娜", sequence=902), person("王强", sequence=903)]
    path_a = write_xlsx(tmp_path / "a.xlsx", rows)
    path_b = write_xlsx(tmp_path / "b.xlsx", rows)
    b_checked, a_written, release = threading.Event(), threading.Event(), threading.Event()
    main = threading.current_thread()
    write = importing.VeteranWriter.write

    def paced_write(writer, *args):
        if threading.current_thread() is main:  # B: its look-up is done, A writes first
            b_checked.set()
            assert a_written.wait(30)
            threading.Timer(1.0, release.set).start()  # A commits while B's COPY waits on the unique key
        return write(writer, *args)

    def hold(_report) -> None:
        a_written.set()
        release.wait(30)

    def import_a() -> None:
        try:
            assert b_checked.wait(30)
            run(path_a, user, unit, commit=True, on_committed=hold)
        finally:
            connection.close()

    monkeypatch.setattr(importing.VeteranWriter, "write", paced_write)
    thread_a = threading.Thread(target=import_a)
    thread_a.start()
    job = Job.objects.create(kind=importing.JOB_KIND, user=user, title="b", total=3,
                             params={"phase": "commit", "unit": unit.pk, "file_name": "b.xlsx", "language": "en"})
    job.input_file.save("b.xlsx", File(path_b.open("rb")), save=True)
    job.result = {"phase": "preview", "valid": 3}
    job.save()
    try:
        importing.import_job_run(job_pk=job.pk, report_progress=False)
    finally:
        release.set()
        thread_a.join(30)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Someone else registered the person of row 2 ") and "nothing was written" in job.error
    assert Veteran.objects.count() == 3 and Veteran.objects.filter(created_by=user).count() == 3
    monkeypatch.setattr(importing.VeteranWriter, "write", write)
    report = run(path_b, user, unit, commit=True)
    assert (report.created, report.updated) == (0, 3)


# --- other file formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(station, tmp_path, encoding):
    user, unit = station
    path = write_csv(tmp_path / "people.csv", [["花名册"], HEADER, person("张伟"), person("欧阳娜娜", sequence=212)],
                     encoding=encoding)
    report = run(path, user, unit, commit=True)
    assert report.valid == 2, problems(report)
    assert set(Veteran.objects.values_list("name", flat=True)) == {"张伟", "欧阳娜娜"}


def test_csv_with_excel_text_cells_and_tabs(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=221)
    row = person("张伟", 公民身份号码=f'="{number}"')
    text = "\t".join(HEADER) + "\n" + "\t".join("" if v is None else str(v) for v in row) + "\n"
    path = tmp_path / "tabs.txt"
    path.write_text(text, encoding="utf-8")
    report = run(path, user, unit, commit=True)
    assert report.valid == 1, problems(report)
    assert Veteran.objects.get().id_number == number


def test_xls_with_a_title_row_real_dates_serials_and_a_numeric_id(station, tmp_path):
    user, unit = station
    number = id_number("19800101", sequence=231)
    rows = [["甲一社区花名册"], HEADER,
            person("张伟", 公民身份号码=number, 入伍时间=datetime(1998, 12, 1), 退役时间=41609.0),
            person("李娜", 公民身份号码=float(id_number("19810101", sequence=232)))]
    report = run(write_xls(tmp_path / "old.xls", rows), user, unit, commit=True)
    assert report.format == "xls" and report.header_row == 2
    [(row, column, reason)] = problems(report)
    assert (row, column) == (4, "公民身份号码") and "stored as a number" in reason
    veteran = Veteran.objects.get()
    assert (veteran.enlist_date, veteran.discharge_date) == (date(1998, 12, 1), date(2013, 12, 1))


def test_a_renamed_file_is_read_by_its_content(station, tmp_path):
    user, unit = station
    path = write_xlsx(tmp_path / "people.xlsx", [HEADER, person("张伟")])
    renamed = path.rename(tmp_path / "people.csv")
    assert run(renamed, user, unit).valid == 1


def test_the_lean_xlsx_reader_reads_like_openpyxl(tmp_path):
    rows = [["标题"], ["文本", "整数", "小数", "日期", "布尔", "空", "长数字"],
            ["张三", 42, 2008.12, datetime(2003, 12, 1), True, None, 320111198001011234],
            [None, "a", None, None, None, None, "3.2E+17"]]
    path = write_xlsx(tmp_path / "types.xlsx", rows, formats={(3, 4): "yyyy\"年\"m\"月\"d\"日\""})
    source = Source(path)
    lean = list(source.rows(0))
    source.close()
    fallback = Source(path)
    fallback._xlsx, fallback._openpyxl_fallback = None, True
    slow = list(fallback.rows(0))
    assert lean == slow
    assert lean[2] == (3, ["张三", 42, 2008.12, datetime(2003, 12, 1), True, None, 3.201111980010113e17])


# --- the error workbook ---------------------------------------------------------------------------------


def _reason_column(ws, header_row: int) -> int:
    return next(c.column for c in ws[header_row] if c.value == "错误原因")


def test_error_workbook_marks_the_users_own_xlsx(station, tmp_path):
    user, unit = station
    rows = [["甲一社区花名册"], HEADER, person("张伟"), person("李娜", 民族="汉人", 入伍时间="2008.13"),
            person("王强", 公民身份号码="123")]
    path = write_xlsx(tmp_path / "mine.xlsx", rows)
    report = run(path, user, unit)
    out = tmp_path / "errors.xlsx"
    with translation.override("en"):
        workbooks.error_workbook(path=path, report=report, file_name=path.name, out=out)
    ws = openpyxl.load_workbook(out)["花名册"]
    assert ws["A1"].value == "甲一社区花名册"  # the user's own sheet, title kept
    reason_col = _reason_column(ws, 2)
    assert reason_col == len(HEADER) + 1
    assert ws.cell(3, reason_col).value is None
    assert "民族" in ws.cell(4, reason_col).value and "入伍时间" in ws.cell(4, reason_col).value
    assert ws.cell(4, HEADER.index("民族") + 1).fill.fgColor.rgb.endswith(workbooks.ERROR_FILL)
    assert ws.cell(4, HEADER.index("入伍时间") + 1).fill.fgColor.rgb.endswith(workbooks.ERROR_FILL)
    assert ws.cell(4, 1).fill.fgColor.rgb != "00" + workbooks.ERROR_FILL
    assert ws.cell(5, 2).fill.fgColor.rgb.endswith(workbooks.ERROR_FILL)
    assert "18 characters" in ws.cell(5, reason_col).value


def test_error_workbook_of_a_csv_is_an_xlsx_of_the_same_rows(station, tmp_path):
    user, unit = station
    rows = [HEADER, person("张伟"), person("李娜", 性别="X")]
    path = write_csv(tmp_path / "mine.csv", rows, encoding="gbk")
    report = run(path, user, unit)
    out = tmp_path / "errors.xlsx"
    workbooks.error_workbook(path=path, report=report, file_name=path.name, out=out)
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in ws[1]] == [*HEADER, "错误原因"]
    assert ws.cell(3, 1).value == "李娜" and ws.cell(3, 2).value == rows[2][1]  # the ID stays text
    assert ws.cell(3, 3).fill.fgColor.rgb.endswith(workbooks.ERROR_FILL)
    assert ws.cell(3, len(HEADER) + 1).value.startswith("性别")
    assert ws.cell(2, len(HEADER) + 1).value is None


def test_large_xlsx_error_workbook_is_rewritten(station, tmp_path, monkeypatch):
    user, unit = station
    monkeypatch.setattr(workbooks, "ANNOTATE_MAX_ROWS", 1)
    path = write_xlsx(tmp_path / "big.xlsx", [["标题"], HEADER, person("张伟", 入伍时间=datetime(1998, 12, 1),
                                                                      公民身份号码=320111198001011234)])
    report = run(path, user, unit)
    out = tmp_path / "errors.xlsx"
    workbooks.error_workbook(path=path, report=report, file_name=path.name, out=out)
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == "标题" and ws.cell(2, len(HEADER) + 1).value == "错误原因"
    assert ws.cell(3, 6).value == datetime(1998, 12, 1)
    assert ws.cell(3, 2).value == 3.201111980010113e17 and ws.cell(3, 2).fill.fgColor.rgb.endswith(workbooks.ERROR_FILL)


# --- the command ----------------------------------------------------------------------------------------


def test_command_dry_run_prints_bad_rows_and_counts(tree, tmp_path):
    rows = [["标题"], HEADER, person("张伟", sequence=241), person("李娜", 民族="汉人"), person("王强", sequence=243)]
    path = write_xlsx(tmp_path / "cmd.xlsx", rows)
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import_veterans", str(path), "--unit", "320111001001", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "rows=3 valid=2 errors=1 created=2 updated=0"
    assert lines[0].startswith("4\t民族\t")
    assert Veteran.objects.count() == 0
    call_command("import_veterans", str(path), "--unit", "320111001001", "--commit", stdout=out, stderr=err)
    assert out.getvalue().splitlines()[-1] == "rows=3 valid=2 errors=1 created=2 updated=0"
    assert Veteran.objects.count() == 2
    out = io.StringIO()
    call_command("import_veterans", str(path), "--unit", "320111001001", "--commit", "--atomic", stdout=out,
                 stderr=err)
    assert out.getvalue().splitlines()[-1] == "rows=3 valid=2 errors=1 created=0 updated=0"
    history = Context.objects.filter(metadata__command="import_veterans")
    assert history.exists()


def test_command_scope_is_the_units_subtree(tree, tmp_path):
    rows = [[*HEADER, "所属村(社区)"], [*person("张伟"), "甲一社区"], [*person("李娜", sequence=252), "乙一社区"]]
    path = write_xlsx(tmp_path / "cmd.xlsx", rows)
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_veterans", str(path), "--unit", "320111001000", "--commit", stdout=out,
                     stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert lines[-1] == "rows=2 valid=1 errors=1 created=1 updated=0"
    assert "outside your area" in lines[0]
    assert OrgUnit.objects.get(code="320111001001").veterans.count() == 1


def test_command_prints_one_line_when_the_database_is_unreachable(tmp_path):
    """PostgreSQL down: one line on stderr naming the cause, exit status 1, no traceback."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = write_xlsx(tmp_path / "cmd.xlsx", [HEADER, person("张伟", sequence=261)])
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/nowhere",
           "DJANGO_SETTINGS_MODULE": "veterans_portal.settings.test"}
    done = subprocess.run([sys.executable, "manage.py", "import_veterans", str(path), "--unit", "320111001001",
                           "--commit"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "数据库不可用" in lines[0] and f"port {port} failed" in lines[0]
    assert done.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_command_prints_one_line_when_the_database_goes_away_mid_import(tree, tmp_path, monkeypatch):
    """The server ends the command's session while it writes: one line, nothing written."""
    write = importing.VeteranWriter.write

    def killed_write(writer, *args):
        pid = connection.cursor().connection.info.backend_pid
        with other_connection() as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return write(writer, *args)

    monkeypatch.setattr(importing.VeteranWriter, "write", killed_write)
    path = write_xlsx(tmp_path / "cmd.xlsx", [HEADER, person("张伟", sequence=263)])
    try:
        with pytest.raises(CommandError) as error:
            call_command("import_veterans", str(path), "--unit", "320111001001", "--commit", stdout=io.StringIO(),
                         stderr=io.StringIO())
    finally:
        connection.close()
    assert len(str(error.value).splitlines()) == 1 and str(error.value).startswith("数据库不可用")
    assert Veteran.objects.count() == 0


def test_every_column_of_the_template_is_understood(station):
    assert all(importing.SPEC.index.match(c.header) is c for c in importing.COLUMNS)
    assert all(importing.SPEC.index.match(s) is c for c in importing.COLUMNS for s in c.synonyms)
    assert importing.SPEC.index.match("*联系电话(手机)") is importing.COLUMN_BY_KEY["phone"]
    # every coded column's code table is seeded
    kinds = set(Code.objects.values_list("kind", flat=True))
    assert {c.choices for c in importing.COLUMNS if c.choices} <= kinds
