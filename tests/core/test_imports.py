"""The import framework is generic: a toy spec, defined here, imports into a table of its own (no model)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from django.db import connection
from django.utils import translation

from apps.core.imports import ChoiceList, Column, ImportSpec, ParsedRow, Writer, run_import
from apps.core.imports.workbooks import ERROR_FILL, REASON_HEADER, error_workbook, template_workbook

TABLE = "toy_import_item"


class ToyWriter(Writer):
    """Items keyed by their code, in a plain table; an item may not be named after its own code."""

    def choice_lists(self) -> dict[str, ChoiceList]:
        return {"grade": ChoiceList([(1, "甲类"), (2, "乙类")], aliases={"一类": "甲类"})}

    def check_row(self, row: ParsedRow) -> None:
        super().check_row(row)
        if row.values.get("name") and row.values.get("name") == row.values.get("code"):
            self.run.problem(row, "name", "名称不能与编号相同。")

    def existing(self, keys):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT code, name, grade, since, active FROM {TABLE} WHERE code = ANY(%s)",  # noqa: S608
                           [keys])
            return {code: {"code": code, "name": name, "grade": grade, "since": since, "active": active}
                    for code, name, grade, since, active in cursor.fetchall()}

    def plan_create(self, row):
        return {"name": "", "grade": None, "since": None, "active": True, **row.values}

    def plan_update(self, row, record):
        updated = {**record, **row.values}
        return updated if updated != record else None

    def write(self, new, changed, touched):
        rows = [plan for _row, plan in new + changed]
        columns = [[r["code"] for r in rows], [r["name"] for r in rows], [r["grade"] for r in rows],
                   [r["since"].value if r["since"] else None for r in rows], [r["active"] for r in rows]]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (code, name, grade, since, active) "  # noqa: S608
                "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::int[], %s::date[], %s::bool[]) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, grade = excluded.grade, "
                "since = excluded.since, active = excluded.active", columns)


SPEC = ImportSpec(
    name="toys", key="code", subject="name", writer=ToyWriter, job_kind="tests.import_toys",
    permission="registry.import_veteran",
    template_sheet="物品", template_notes=lambda: ["每行一件物品。"],
    columns=(
        Column("code", "编号", ("代码", "物品编号"), "ident", max_length=10, required=True),
        Column("name", "名称", ("物品名称", "名字"), "name", max_length=20, required=True),
        Column("grade", "类别", ("分类",), "code", "grade"),
        Column("since", "启用日期", ("日期",), "date"),
        Column("active", "在用", ("是否在用",), "bool", options=("是", "否")),
    ),
)


@pytest.fixture
def table(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (code varchar(10) PRIMARY KEY, name varchar(20) NOT NULL, "
                       "grade integer, since date, active boolean NOT NULL)")
    return TABLE


def stored() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT code, name, grade, since, active FROM {TABLE} ORDER BY code")  # noqa: S608
        return cursor.fetchall()


def sheet(path: Path, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def run(path: Path, tree, **kwargs):
    with translation.override("en"):
        return run_import(SPEC, actor=None, path=path, unit=tree["village_a1"], file_name=path.name, **kwargs)


GOOD = [["物品清单"], ["是否在用", "代码", "名字", "分类", "备注"], ["是", "A1", "水壶", "一类", "不认识的列"],
        ["否", "B２", "手电", "乙类", None]]


def test_header_synonyms_title_row_and_a_commit(table, tree, tmp_path):
    path = sheet(tmp_path / "toys.xlsx", GOOD)
    report = run(path, tree)
    assert (report.header_row, report.rows, report.valid, report.created) == (2, 2, 2, 2)
    assert report.columns == ["是否在用", "代码", "名字", "分类"] and report.ignored_columns == ["备注"]
    assert stored() == []  # a dry run
    report = run(path, tree, commit=True)
    assert report.committed and stored() == [("A1", "水壶", 1, None, True), ("B2", "手电", 2, None, False)]
    again = sheet(tmp_path / "again.xlsx", [GOOD[1], ["是", "A1", "大水壶", "甲类"], ["否", "B2", "手电", "乙类"]])
    report = run(again, tree, commit=True)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    assert stored()[0] == ("A1", "大水壶", 1, None, True)


def test_row_problems_name_row_column_and_reason(table, tree, tmp_path):
    rows = [["编号", "名称", "类别", "日期"], ["A1", "水壶", "丙类", "2008.13"], ["A1", "手电", None, None],
            ["C3", "C3", None, None], [None, "无编号", None, None]]
    report = run(sheet(tmp_path / "bad.xlsx", rows), tree)
    problems = [(p.row, p.column, p.reason) for p in report.problems]
    assert problems[0][:2] == (2, "类别") and problems[0][2].startswith("“丙类” is not a valid 类别; choose from: 甲类、乙类")
    assert problems[1] == (2, "日期", "There is no such date: 2008.13.")
    assert (3, "编号", "The same 编号 as row 2.") in problems
    assert (4, "名称", "名称不能与编号相同。") in problems
    assert (5, "编号", "Required.") in problems
    assert (report.rows, report.valid, report.errors) == (4, 0, 4)


def test_all_or_nothing(table, tree, tmp_path):
    rows = [GOOD[1], ["是", "A1", "水壶", "甲类"], ["是", "B2", "手电", "丁类"]]
    report = run(sheet(tmp_path / "mixed.xlsx", rows), tree, commit=True, atomic=True)
    assert report.rolled_back and not report.committed and report.errors == 1
    assert stored() == []
    report = run(sheet(tmp_path / "mixed.xlsx", rows), tree, commit=True)
    assert report.committed and [code for code, *_rest in stored()] == ["A1"]


def test_missing_required_column_refuses_the_file(table, tree, tmp_path):
    from apps.core.imports import ImportFileError

    with pytest.raises(ImportFileError, match="Required columns are missing: 名称"):
        run(sheet(tmp_path / "nocol.xlsx", [["编号", "类别"], ["A1", "甲类"]]), tree)


def test_error_workbook_marks_the_bad_cells(table, tree, tmp_path):
    rows = [["编号", "名称", "类别", "启用日期"], ["A1", "水壶", "甲类", date(2008, 12, 1)], ["B2", "手电", "丙类", None]]
    path = sheet(tmp_path / "toys.xlsx", rows)
    report = run(path, tree)
    out = tmp_path / "errors.xlsx"
    error_workbook(path=path, report=report, file_name=path.name, out=out)
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(1, 5).value == REASON_HEADER
    assert ws.cell(3, 3).fill.fgColor.rgb.endswith(ERROR_FILL) and not ws.cell(2, 3).fill.fgColor.rgb.endswith(ERROR_FILL)
    assert ws.cell(3, 5).value.startswith("类别：") and ws.cell(2, 5).value is None


def test_template_has_the_columns_and_drop_downs(tree, users):
    data = template_workbook(SPEC, user=users["village_a1"], choices={"grade": ["甲类", "乙类"]})
    import io

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    ws = workbook["物品"]
    assert [c.value for c in ws[1]] == ["编号", "名称", "类别", "启用日期", "在用"]
    assert ws.cell(1, 1).font.color.rgb.endswith("C00000") and not ws.cell(1, 3).font.color
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation}
    assert lists["C2"].endswith("$A$2:$A$3") and lists["E2"] == '"是,否"'
    assert [c.value for c in workbook["代码表"]["A"]] == ["类别", "甲类", "乙类"]
    assert workbook["代码表"].sheet_state == "hidden"
    assert workbook["填写说明"]["A2"].value == "1. 每行一件物品。"


# --- reading: calamine, and the stream reader for what calamine cannot do ------------------------------------


def _rezip(path: Path, sheet) -> Path:
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def test_calamine_and_the_stream_reader_read_alike(tmp_path):
    from datetime import datetime

    from apps.core.imports.reading import Source

    rows = [["标题"], ["文本", "整数", "小数", "日期", "布尔", "空", "长数字"],
            ["张三", 42, 2008.12, datetime(2003, 12, 1), True, None, 320111198001011234],
            [None, "a", None, None, None, None, "3.2E+17"]]
    path = sheet(tmp_path / "types.xlsx", rows)
    source = Source(path)
    sheet_path = source._xlsx.sheets[0][1]
    assert not source._xlsx.needs_stream(sheet_path)  # an ordinary sheet is read by calamine
    read = list(source.rows(0))
    streamed = list(source._xlsx.rows(sheet_path))
    source.close()
    assert [r for r in read if r[1]] == streamed
    assert read[2] == (3, ["张三", 42, 2008.12, datetime(2003, 12, 1), True, None, 3.201111980010113e17])
    assert type(read[2][1][1]) is int and type(read[2][1][6]) is float  # 18 digits: the float Excel stored


def test_formulas_without_values_and_wide_sheets_go_to_the_stream_reader(tmp_path, settings):
    from apps.core.imports.reading import Source

    path = sheet(tmp_path / "formula.xlsx", [["编号", "名称"], ["A1", '="水"&"壶"']])
    source = Source(path)
    assert source._xlsx.needs_stream(source._xlsx.sheets[0][1])
    source.close()
    errors = _rezip(sheet(tmp_path / "errors.xlsx", [["编号", "名称", "启用日期"], ["A1", "水壶", 1]]),
                    lambda xml: xml.replace('<c r="C2" t="n"><v>1</v></c>', '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'))
    source = Source(errors)
    assert source._xlsx.needs_stream(source._xlsx.sheets[0][1])
    assert list(source.rows(0))[1] == (2, ["A1", "水壶", "#DIV/0!"])  # calamine would read a blank
    source.close()
    settings.REGISTRY_IMPORT_MAX_CELLS = 100
    wide = sheet(tmp_path / "wide.xlsx", [["编号"], ["A1"]])
    _rezip(wide, lambda xml: xml.replace('<c r="A2"', '<c r="ZZ2" t="inlineStr"><is><t>x</t></is></c><c r="A2"'))
    source = Source(wide)
    assert source._xlsx.needs_stream(source._xlsx.sheets[0][1])  # 2 rows × 702 columns: calamine would allocate
    assert [values[:1] for _n, values in source.rows(0)] == [["编号"], ["A1"]]  # read lean, XFD-side ignored
    source.close()


def test_a_dtd_is_refused_before_calamine_reads(table, tree, tmp_path):
    from apps.core.imports import ImportFileError

    path = _rezip(sheet(tmp_path / "dtd.xlsx", GOOD),
                  lambda xml: xml.replace("<worksheet", '<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1))
    with pytest.raises(ImportFileError, match="damaged or protected"):
        run(path, tree)


def test_units_by_code_name_or_path_within_the_users_tree(tree, users):
    from apps.core.imports import CellError, UnitLookup
    from apps.core.services import orgunit_create

    twin_a = orgunit_create(actor=None, parent=tree["street_a"], code="320111001202", name="新村")
    twin_b = orgunit_create(actor=None, parent=tree["street_b"], code="320111002202", name="新村")
    district = UnitLookup(actor=None, unit=tree["district"])
    assert district.get("320111001202") == twin_a.pk
    assert district.get("甲二村") == tree["village_a2"].pk
    with translation.override("en"), pytest.raises(CellError, match="Several units are called “新村”"):
        district.get("新村")
    assert district.get("乙街道/新村") == twin_b.pk and district.get("测试区>甲街道>新村") == twin_a.pk
    street_a = UnitLookup(actor=users["street_a"], unit=tree["street_a"])
    assert street_a.get("新村") == twin_a.pk  # the one in the user's area
    with translation.override("en"), pytest.raises(CellError, match="outside your area"):
        street_a.get("乙街道/新村")


def test_a_spec_runs_as_a_background_job_kind(table, tree, users, tmp_path, settings, monkeypatch):
    """The framework registers the spec's kind with core's job runner: preview, then commit, by kind."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.core import jobs
    from apps.core.choices import JobStatus
    from apps.core.imports import jobs as import_jobs

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(jobs, "_KINDS", dict(jobs._KINDS))
    import_jobs.register_kind(SPEC)
    assert jobs.registered()["tests.import_toys"].queue == "imports"
    rows = [GOOD[1], ["是", "A1", "水壶", "甲类"], ["是", "B2", "手电", "丁类"]]
    upload = SimpleUploadedFile("toys.xlsx", sheet(tmp_path / "toys.xlsx", rows).read_bytes())
    job = import_jobs.import_job_create(SPEC, actor=users["village_a1"], upload=upload, unit=tree["village_a1"])
    job = jobs.job_run(job.pk)
    assert job.status == JobStatus.DONE and (job.result["valid"], job.result["errors"]) == (1, 1)
    assert job.output_file and stored() == []  # the error workbook; a preview writes nothing
    import_jobs.import_job_confirm(SPEC, actor=users["village_a1"], job=job)  # small: run in the request
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result["committed"] and [r[0] for r in stored()] == ["A1"]
