"""Veteran import (导入): the spec core's import framework (``apps.core.imports``) runs.

The sheets are what stations really keep: xlsx, xls or csv; a title row (or several) above the header; Chinese
column names in any order and under several names; full-width characters and stray spaces; dates written many
ways; ID numbers typed into number cells (precision lost: an error, never "repaired").

This module holds what is the registry's own: the columns, the ID-number, sex, household and tag parsers, the
checks across columns (sex and birth date against the ID number, rank against military category), the natural
key (the ID number's blind index, backed by a unique constraint), and the write: new records by COPY, changed
ones by ``INSERT … ON CONFLICT (id_number_hash) DO UPDATE``, categories and tags linked set-based.
``veteran_import`` is also used by the ``import_veterans`` command; the ``import_job_*`` functions are the web
import's (in the request for small files, as the background job kind ``registry.import`` for large ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.imports import (
    CellError,
    ChoiceList,
    Column,
    ImportFileError,
    ImportReport,
    ImportSpec,
    Mapped,
    ParsedDate,
    ParsedRow,
    Writer,
    as_text,
    clean_text,
    code_key,
    memo,
    run_import,
)
from apps.core.imports import jobs as import_jobs_kit
from apps.core.imports.workbooks import template_workbook
from apps.core.imports.writing import copy_insert, link
from apps.core.models import Job, OrgUnit, User

from . import crypto, hooks, idnumber
from .choices import CodeKind, HukouType, Sex
from .models import Code, Veteran
from .services import duplicate_message, name_pinyin

__all__ = ["COLUMNS", "JOB_KIND", "PERMISSION", "SPEC", "ImportFileError", "ImportReport", "import_job_confirm",
           "import_job_create", "import_job_dispatch", "import_job_run", "import_jobs", "import_template",
           "veteran_import"]

JOB_KIND = "registry.import"  # registered in apps/registry/jobs.py (the download centre re-runs jobs by kind)
PERMISSION = "registry.import_veteran"

COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("名字", "人员姓名", "退役军人姓名"), "name", max_length=50, required=True),
    Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "身份证", "居民身份证号码", "身份证件号码",
                                    "公民身份证号码", "公民身份证号", "证件号码", "身份证号(18位)"), "id", required=True),
    Column("sex", "性别", (), "sex", options=("男", "女")),
    Column("birth_date", "出生日期", ("出生年月", "出生年月日", "生日", "出生时间"), "date"),
    Column("ethnic", "民族", (), "code", CodeKind.ETHNIC),
    Column("political", "政治面貌", (), "code", CodeKind.POLITICAL),
    Column("education", "文化程度", ("学历",), "code", CodeKind.EDUCATION),
    Column("marital", "婚姻状况", ("婚姻", "婚否"), "code", CodeKind.MARITAL),
    Column("health", "健康状况", ("身体状况",), "code", CodeKind.HEALTH),
    Column("hukou_type", "户籍类别", ("户口性质", "户籍性质", "户口类别", "户口类型", "户籍类型"), "hukou",
           options=("城镇", "农村")),
    Column("hukou_address", "户籍地址", ("户籍地", "户籍所在地", "户口所在地", "户籍住址", "户口地址"), max_length=200),
    Column("address", "常住地址", ("现居住地址", "现住址", "居住地址", "家庭住址", "家庭地址", "现居住地", "常住地",
                               "联系地址"), max_length=200),
    Column("phone", "联系电话", ("手机号码", "手机号", "手机", "电话", "电话号码", "联系方式"), "phone"),
    Column("primary_category", "人员类别", ("信息采集类别", "采集类别", "人员分类", "对象类别"), "code",
           CodeKind.CATEGORY, emphasised=True),
    Column("tags", "人员标签", ("标签",), "tags"),
    Column("enlist_date", "入伍时间", ("入伍日期", "入伍年月"), "date"),
    Column("enlist_place", "入伍地", ("入伍地点",), max_length=100),
    Column("discharge_date", "退役时间", ("退役日期", "退役年月", "退伍时间", "退伍日期", "退伍年月"), "date"),
    Column("branch", "军种", ("服役军种",), "code", CodeKind.BRANCH),
    Column("troop_code", "部队代号", ("原部队代号", "部队番号", "原部队番号", "服役部队"), "ident", max_length=50),
    Column("re_enlisted", "二次入伍", ("是否二次入伍",), "bool", options=("是", "否")),
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

SCIENTIFIC = re.compile(r"^\d+(\.\d+)?e\+?\d+$", re.IGNORECASE)
FLOAT_TEXT = re.compile(r"^(\d+)\.0+$")
TAG_SPLIT = re.compile(r"[,;、/|\s]+")
MALE = frozenset({"男", "男性", "m", "male", "1"})
FEMALE = frozenset({"女", "女性", "f", "female", "2"})
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


def _lost_digits() -> str:
    return _("The ID number was stored as a number and its last digits are lost: format the column as text and "
             "type the number again.")


def parse_id_cell(raw: Any) -> idnumber.IdNumber:
    """The ID number of a cell. A number cell (or its scientific text) of more than 15 digits has lost digits."""
    if isinstance(raw, (bool, datetime, date)):
        raise CellError(_("Not an ID number."))
    if isinstance(raw, float):
        if not raw.is_integer() or abs(raw) >= 1e15:
            raise CellError(_lost_digits())
        raw = int(raw)
    if isinstance(raw, int):
        if len(str(abs(raw))) > 15:
            raise CellError(_lost_digits())
        raw = str(raw)
    text = "".join(str(raw).split())
    if SCIENTIFIC.match(text):
        raise CellError(_lost_digits())
    match = FLOAT_TEXT.match(text)
    if match:
        if len(match.group(1)) > 15:
            raise CellError(_lost_digits())
        text = match.group(1)
    try:
        return idnumber.parse(text)
    except idnumber.IdNumberError as exc:
        raise CellError(str(exc)) from None



def _sex(raw: Any) -> str:
    key = as_text(raw).strip().lower()
    if key in MALE:
        return Sex.MALE
    if key in FEMALE:
        return Sex.FEMALE
    raise CellError(_("Write 男 or 女."))


def _hukou(raw: Any) -> str:
    key = code_key(as_text(raw)).removesuffix("户口").removesuffix("户籍")
    if key in HUKOU:
        return HUKOU[key]
    raise CellError(_("Write 城镇 or 农村."))


DUPLICATE_KEY = re.compile(r"\(id_number_hash\)=\(([0-9a-f]+)\)")


class VeteranWriter(Writer):
    """Veteran rows: the ID number is the key (its blind index), checks across columns, upsert and links."""

    def __init__(self, run):
        super().__init__(run)
        keys = {m.column.key for m in run.mapping}
        update = [k for k in PLAIN_FIELDS if k in keys]
        if "name" in keys:
            update += ["name_pinyin", "name_initials"]
        if "rank" in keys and "military_category" not in keys:
            update.append("military_category")
        self.update_fields = update
        self.attnames = {name: Veteran._meta.get_field(name).attname for name in update}
        self.create_attnames = {name: Veteran._meta.get_field(name).attname for name in PLAIN_FIELDS}
        self.through_categories = Veteran.categories.through
        self.through_tags = Veteran.tags.through
        self.current_tags: dict[int, set[int]] = {}
        self.written_ids: list[int] = []  # records created or updated, for the apps that build on them (hooks)
        self.pinyin_cache: dict[str, tuple[str, str]] = {}
        self.defaults = {f.attname: f.get_default() for f in Veteran._meta.concrete_fields}

    # -- cells

    def choice_lists(self) -> dict[str, ChoiceList]:
        values: dict[str, list[tuple[int, str]]] = {}
        self.code_name: dict[int, str] = {}
        self.code_parent: dict[int, int | None] = {}
        for pk, kind, name, parent in (Code.objects.filter(is_active=True).order_by("kind", "sort_order", "code")
                                       .values_list("pk", "kind", "name", "parent_id")):
            values.setdefault(kind, []).append((pk, name))
            self.code_name[pk] = name
            self.code_parent[pk] = parent
        return {kind: ChoiceList(rows, aliases=ALIASES.get(kind), suffix="族" if kind == CodeKind.ETHNIC else "")
                for kind, rows in values.items()}

    def parser(self, mapped: Mapped) -> Callable[[Any], Any] | None:
        kind = mapped.column.kind
        if kind == "id":
            return parse_id_cell
        if kind == "sex":
            return memo(_sex)
        if kind == "hukou":
            return memo(_hukou)
        if kind == "tags":
            return lambda raw: self._tags(raw, mapped.header)
        return None

    def _tags(self, raw: Any, header: str) -> list[int]:
        tags = self.run.choices.get(CodeKind.TAG) or ChoiceList([])
        pks: list[int] = []
        for part in TAG_SPLIT.split(clean_text(as_text(raw))):
            if part:
                pk = tags.get(part, header)
                if pk not in pks:
                    pks.append(pk)
        return pks

    # -- rows

    def check_row(self, row: ParsedRow) -> None:
        run, values = self.run, row.values
        parsed: idnumber.IdNumber | None = values.pop("id_number", None)
        if parsed is None:
            return
        row.extra["id"] = parsed
        row.key = crypto.blind_index(parsed.number)
        sex = values.pop("sex", None)
        if sex and sex != parsed.sex:
            run.problem(row, "sex", _("The sex contradicts the ID number (its 17th digit says %(sex)s).")
                        % {"sex": _("male") if parsed.sex == Sex.MALE else _("female")})
        birth: ParsedDate | None = values.pop("birth_date", None)
        if birth is not None:
            expected = parsed.birth_date if birth.precision == "day" else parsed.birth_date.replace(day=1)
            if birth.value != expected:
                run.problem(row, "birth_date", _("The birth date contradicts the ID number (%(date)s).")
                            % {"date": parsed.birth_date.isoformat()})
        for key in DATE_FIELDS:
            if key in values:
                values[key] = values[key].value
                if values[key] < parsed.birth_date:
                    run.problem(row, key, _("The date is before the person's birth."))
        enlist, discharge = values.get("enlist_date"), values.get("discharge_date")
        if enlist and discharge and discharge < enlist:
            run.problem(row, "discharge_date", _("The discharge date is before the enlistment date."))
        rank = values.get("rank")
        if rank is not None:
            category = self.code_parent.get(rank)
            given = values.get("military_category")
            if given is not None and category is not None and given != category:
                run.problem(row, "rank", _("The rank %(rank)s does not belong to the military category "
                                           "%(category)s.") % {"rank": self.code_name[rank],
                                                               "category": self.code_name[given]})
            elif given is None and category is not None:
                values["military_category"] = category

    def duplicate(self, first: int) -> str:
        return _("The same ID number as row %(row)d.") % {"row": first}

    # -- chunks

    def existing(self, keys: list[Any]) -> dict[Any, Any]:
        found = Veteran.objects.filter(id_number_hash__in=keys)
        if self.run.commit:
            found = found.select_for_update()
        records = {v.id_number_hash: v for v in found}
        self.current_tags = {}
        if "tags" in self.run.header_of and records:
            for vet_id, code_id in self.through_tags.objects.filter(
                    veteran_id__in=[v.pk for v in records.values()]).values_list("veteran_id", "code_id"):
                self.current_tags.setdefault(vet_id, set()).add(code_id)
        return records

    def plan_create(self, row: ParsedRow) -> dict | None:
        """The new record as column values (attname → value); model instances are not needed for COPY."""
        run, values = self.run, row.values
        unit_pk = values.pop("org_unit", None) or run.unit.pk
        if values.get("primary_category") is None and not run.failed(row, "primary_category"):
            run.problem(row, "primary_category", _("Required for a new record."))
        if row.problems:
            return None
        parsed = row.extra["id"]
        record = dict(self.defaults)
        record.update(org_unit_id=unit_pk, id_number_hash=row.key, id_number_masked=parsed.masked,
                      sex=parsed.sex, birth_date=parsed.birth_date,
                      created_by_id=run.actor.pk if run.actor is not None else None)
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

    def plan_update(self, row: ParsedRow, record: Veteran) -> Veteran | None:
        """The existing record with the row's non-blank cells applied; None when nothing changes."""
        run, values = self.run, row.values
        if record.org_unit_id not in run.units.visible:
            run.problem(row, "id_number", duplicate_message(user=None, existing=record))
            return None
        unit_pk = values.pop("org_unit", None)
        if unit_pk is not None and unit_pk != record.org_unit_id:
            run.problem(row, "org_unit", _("This person is registered at %(unit)s; use a transfer to change the "
                                           "unit.") % {"unit": run.units.unit_name.get(record.org_unit_id, "")})
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
        if tags is not None and set(tags) != self.current_tags.get(record.pk, set()):
            dirty = True
        return record if dirty else None

    def write(self, new: list[tuple[ParsedRow, dict]], changed: list[tuple[ParsedRow, Veteran]],
              touched: list[tuple[ParsedRow, Veteran]]) -> None:
        links: list[tuple[int, int]] = []
        tag_rows: list[tuple[int, int]] = []
        replace_tags: list[int] = []
        touched_pks = [(row, record.pk) for row, record in touched]  # before the upsert below clears them
        if new:
            pinyin = self._pinyin

            def record_of(item: tuple[ParsedRow, dict]) -> dict:
                # Encryption and pinyin are done as each row is streamed (see ``copy_insert``).
                row, record = item
                record["id_number_encrypted"] = crypto.encrypt(row.extra["id"].number)
                record["name_pinyin"], record["name_initials"] = pinyin(record["name"])
                return record

            ids = copy_insert(Veteran, new, record_of)
            for pk, (row, record) in zip(ids, new, strict=True):
                if record["primary_category_id"]:
                    links.append((pk, record["primary_category_id"]))
                for code in row.values.get("tags") or ():
                    tag_rows.append((pk, code))
            self.written_ids.extend(ids)
        if changed:
            updates = []
            for _row, record in changed:
                record.pk = None  # INSERT … ON CONFLICT (id_number_hash) DO UPDATE: one statement per chunk
                updates.append(record)
            Veteran.objects.bulk_create(updates, update_conflicts=True, unique_fields=["id_number_hash"],
                                        update_fields=[*self.update_fields, "updated_at"])
        for row, pk in touched_pks:
            category = row.values.get("primary_category")
            if category:
                links.append((pk, category))
            if row.values.get("tags") is not None:
                replace_tags.append(pk)
                tag_rows.extend((pk, code) for code in row.values["tags"])
            self.written_ids.append(pk)
        if replace_tags:
            self.through_tags.objects.filter(veteran_id__in=replace_tags).delete()
        link(self.through_categories, "veteran", "code", links)
        link(self.through_tags, "veteran", "code", tag_rows)

    def committed(self) -> None:
        hooks.veterans_changed(self.written_ids)  # told once the transaction commits

    def integrity_error(self, exc: IntegrityError) -> ImportFileError | None:
        """A unique violation on the blind index: another import or a station registered one of these people after
        this import looked them up (an overlapping import of the same people). Named by its row when PostgreSQL
        says which key; None for any other integrity error (not the user's to fix: it stays an internal error)."""
        diag = getattr(exc.__cause__, "diag", None)
        constraint = getattr(diag, "constraint_name", "") or ""
        if "id_number_hash" not in constraint:
            return None
        match = DUPLICATE_KEY.search(getattr(diag, "message_detail", "") or "")
        row = self.run.seen.get(match.group(1)) if match else None
        if row is None:
            return ImportFileError(_("Someone else registered one of these people while the import ran; nothing "
                                     "was written. Import the file again."))
        return ImportFileError(_("Someone else registered the person of row %(row)d (perhaps others of this sheet "
                                 "as well) while the import ran, for example in another import of the same people; "
                                 "nothing was written. Import the file again: the people registered meanwhile are "
                                 "then updated.") % {"row": row})

# --- the spec ------------------------------------------------------------------------------------------------


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
    return hints.get(column.key, "")


def _template_notes() -> list[str]:
    return [
        _("Fill in one person per row on the first sheet. The columns may be in any order and a title row may "
          "stand above the header; columns the import does not know are ignored."),
        _("Red column names are required: 姓名 and 公民身份号码, and 人员类别 for a person not registered yet."),
        _("People are matched by ID number: importing the same person again updates the record, never doubles "
          "it. Empty cells do not erase what is already recorded."),
        _("Every row is checked before anything is written; bad rows are listed with their row number, column and "
          "reason, and you can download the sheet back with the bad cells marked."),
    ]


SPEC = ImportSpec(
    name="veterans", columns=COLUMNS, key="id_number", subject="name", writer=VeteranWriter, job_kind=JOB_KIND,
    job_label=gettext_lazy("Veteran import"), permission=PERMISSION, template_sheet="退役军人信息", template_notes=_template_notes, column_hint=_column_hint,
    template_file_name=lambda: _("veteran-import-template.xlsx"),
)


def veteran_import(*, actor: User | None, path: str | Path, unit: OrgUnit, commit: bool = False,
                   atomic: bool = False, file_name: str = "", job: Job | None = None,
                   progress: Callable[[int], None] | None = None,
                   on_committed: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Check every row of the sheet at ``path`` and, with ``commit``, write the valid ones (``run_import``).

    ``unit`` is the default responsible unit (rows may name units below it). ``actor`` None (the command) scopes
    the import to ``unit``'s subtree. With ``atomic`` nothing is written when any row is bad.
    """
    return run_import(SPEC, actor=actor, path=path, unit=unit, commit=commit, atomic=atomic, file_name=file_name,
                      job=job, progress=progress, on_committed=on_committed)


def import_template(*, user: User) -> bytes:
    """The import template: the header row, drop-down lists for coded columns, and a sheet of instructions."""
    choices: dict[str, list[str]] = {}
    for kind, name in Code.objects.filter(is_active=True).order_by("kind", "sort_order", "code").values_list(
            "kind", "name"):
        choices.setdefault(kind, []).append(name)
    return template_workbook(SPEC, user=user, choices=choices)


# --- jobs ----------------------------------------------------------------------------------------------------


def import_job_create(*, actor: User, upload: UploadedFile, unit: OrgUnit | None = None,
                      atomic: bool = False) -> Job:
    """Store an uploaded sheet as an import job (phase: preview). Raises ValidationError for the form."""
    return import_jobs_kit.import_job_create(SPEC, actor=actor, upload=upload, unit=unit, atomic=atomic)


def import_job_dispatch(job: Job) -> None:
    """Run the job's phase now (small sheets) or in a Celery task after the current transaction commits."""
    import_jobs_kit.import_job_dispatch(SPEC, job)


def import_job_confirm(*, actor: User, job: Job) -> Job:
    """The user confirms a preview: the job moves to its commit phase (once)."""
    return import_jobs_kit.import_job_confirm(SPEC, actor=actor, job=job)


def import_job_run(*, job_pk: int, report_progress: bool = True) -> Job | None:
    """Run an import job's phase (preview or commit); safe to run again."""
    return import_jobs_kit.import_job_run(SPEC, job_pk=job_pk, report_progress=report_progress)


def import_jobs(*, user: User) -> Iterable[Job]:
    """The user's own imports, newest first."""
    return import_jobs_kit.import_jobs(SPEC, user=user)
