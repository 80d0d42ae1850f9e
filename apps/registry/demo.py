"""Demo registry: N realistic veterans spread over the demo district's communities, deterministic, fast.

Same ``seed`` → same people (names, ID numbers, blind indexes, dates, codes): person *i* depends only on
the seed and the people before it, so seeding 1,000 and later 100,000 adds the 99,000 missing ones.
Running again with the same N adds nothing: the command stops when N veterans exist, and a person whose
ID number is already registered (blind index) is skipped, never duplicated.

Speed (1,000,000 veterans in minutes): rows are generated in Python from pools drawn once (names from
Faker's zh_CN tables, streets and companies from a seeded Faker), pinyin is computed once per distinct
name, each ID number is encrypted with ``crypto.encrypt`` (Fernet, ~10 µs) and the rows are written with
PostgreSQL COPY in chunks. The history triggers (pghistory) still fire for every row, so each demo
record has its "created" event, attributed to the ``seed_demo`` command's context.
"""

from __future__ import annotations

import random
import time
from bisect import bisect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from django.db import connection, models
from django.utils import timezone
from faker import Faker
from faker.providers.person.zh_CN import Provider as ZhPerson
from stdnum.cn import ric

from apps.core.models import OrgUnit

from . import crypto, idnumber
from .choices import CardEventKind, CardStatus, CardType, CodeKind, DisabilityNature, HukouType, VeteranStatus
from .models import CardEvent, CareEntitlement, Code, FamilyMember, PreferentialCard, Veteran
from .services import name_pinyin

# Reference "today" of the demo data: fixed, so that the same seed gives the same people in any year.
DEMO_TODAY = date(2025, 6, 30)
CHUNK = 20_000

# Area codes of ID numbers: the district itself, the rest of Nanjing (old county codes included: the
# code in force when the number was issued), and other Jiangsu counties people moved from.
HOME_AREA = "320111"
OTHER_AREAS = ["320122", "320113", "320115", "320116", "320106", "320104", "320105", "320114", "320102",
               "320103", "320107", "320123", "320124", "320125", "320117", "320118", "320281", "320282",
               "320321", "320322", "320381", "320382", "320481", "320582", "320621", "320723", "320826",
               "320923", "321081", "321181", "321283", "321322", "320830", "321023"]
AREA_PLACES = {"320111": "江苏省南京市浦口区", "320122": "江苏省江浦县", "320113": "江苏省南京市栖霞区",
               "320115": "江苏省南京市江宁区", "320116": "江苏省南京市六合区", "320123": "江苏省六合县"}

# Given names of the generations that served, beside Faker's zh_CN lists.
ERA_MALE = ["国庆", "卫国", "国强", "建设", "海军", "卫东", "振华", "志刚", "永红", "德明", "向东", "爱国", "保国", "红兵", "立新", "跃进",
            "援朝", "胜利", "国平", "小军", "海涛", "子豪", "宇航", "浩然", "俊杰", "子轩", "明辉", "家豪", "文杰", "志勇"]
ERA_FEMALE = ["淑芬", "丽萍", "爱华", "晓燕", "雨欣", "思雨", "欣怡", "佳怡", "春燕", "美玲", "晓丽", "素梅"]

# Birth decades and their share of the register.
BIRTH_DECADES = [(1930, 1939, 2), (1940, 1949, 6), (1950, 1959, 14), (1960, 1969, 20), (1970, 1979, 20),
                 (1980, 1989, 17), (1990, 1999, 16), (2000, 2004, 5)]
BRANCHES = [("陆军", 58), ("海军", 10), ("空军", 12), ("火箭军", 6), ("战略支援部队/信息支援部队", 3), ("武警部队", 10),
            ("其他", 1)]
# Disability grade 1 (most severe) … 10, lighter grades far more common; monthly amounts (yuan) roughly.
GRADE_WEIGHTS = [1, 1, 2, 3, 4, 6, 10, 14, 18, 20]
GRADE_MONTHLY = [0, 9200, 8300, 7400, 6100, 4900, 3900, 3100, 2400, 1600, 1100]
SURVIVOR_CATEGORIES = ("烈士遗属", "因公牺牲军人遗属", "病故军人遗属", "现役军人家属")

VETERAN_COLUMNS = (
    "id", "id_number_encrypted", "org_unit_id", "status", "status_date", "status_reason", "name", "name_pinyin",
    "name_initials", "id_number_hash", "id_number_masked", "sex", "birth_date", "ethnic_id", "political_id",
    "education_id", "marital_id", "health_id", "hukou_type", "hukou_address", "address", "phone",
    "primary_category_id", "enlist_date", "enlist_place", "discharge_date", "branch_id", "troop_code",
    "re_enlisted", "military_category_id", "rank_id", "discharge_mode_id", "certificate_type_id",
    "certificate_number", "report_date", "placement_unit", "placement_unit_nature_id", "employment_id", "notes",
    "created_at", "updated_at", "created_by_id",
)
FAMILY_COLUMNS = ("veteran_id", "id_number_encrypted", "id_number_hash", "id_number_masked", "relation_id", "name",
                  "phone", "work_unit", "health_id", "is_active_duty", "troop_location", "military_category_id",
                  "rank_id")
CARE_COLUMNS = ("veteran_id", "category_id", "disability_grade", "disability_nature", "benefit_id", "monthly_amount",
                "support_mode", "start_date", "end_date")
CARD_COLUMNS = ("id", "veteran_id", "card_type", "number", "status", "issued_on")
CARD_EVENT_COLUMNS = ("card_id", "kind", "date", "note", "created_at")

NULL = "\\N"


def _s(value) -> str:
    """A value in COPY text format (the generated text never holds tabs, newlines or backslashes)."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


@dataclass(slots=True)
class Person:
    """One generated record, before ids and encryption are assigned."""

    number: str
    digest: str
    fields: list  # VETERAN_COLUMNS[2:] values
    categories: list
    tags: list
    family: list = field(default_factory=list)  # (number or "", values for FAMILY_COLUMNS[4:])
    care: list = field(default_factory=list)  # values for CARE_COLUMNS[1:]
    card: tuple | None = None  # (card_type, number, status, issued_on, [(kind, date, note)])


class Generator:
    """Deterministic people: ``random.Random(seed)`` draws every choice; Faker (seeded) fills the pools."""

    def __init__(self, seed: int, units: list[tuple[int, str, str, str]], codes: dict[str, dict[str, int]]):
        self.rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.streets = sorted({fake.street_name() for _ in range(400)})
        self.companies = sorted({fake.company() for _ in range(400)})
        self.codes = codes
        self.units = units
        self.unit_cum = list(accumulate(self.rng.uniform(0.3, 2.5) for _ in units))
        self.last_names = list(ZhPerson.last_names)
        self.last_cum = list(accumulate(ZhPerson.last_names.values()))
        self.male_names = list(ZhPerson.first_names_male) + ERA_MALE
        self.female_names = list(ZhPerson.first_names_female) + ERA_FEMALE
        self.ethnic_ids = list(codes[CodeKind.ETHNIC].values())
        self.branch = [(codes[CodeKind.BRANCH][name], weight) for name, weight in BRANCHES]
        self.branch_cum = list(accumulate(w for _n, w in self.branch))
        self.decade_cum = list(accumulate(w for *_r, w in BIRTH_DECADES))
        self.grade_cum = list(accumulate(GRADE_WEIGHTS))
        self.used: set[int] = set()  # 17-digit bodies handed out, so that every number is unique
        self.pinyin: dict[str, tuple[str, str]] = {}
        self.created_at = timezone.now().isoformat()
        # When each record was created, from a generator of its own (the people stay the same): most before
        # the last fifteen months, a fifth within them, so that the dashboard's new records, the register as at a
        # past period and its comparisons with the previous period and a year earlier have something to show.
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.created_rng = random.Random(seed + 1)

    def created(self) -> str:
        rng = self.created_rng
        days = rng.randint(0, 450) if rng.random() < 0.2 else rng.randint(460, 1800)
        return (self.now - timedelta(days=days, minutes=rng.randint(0, 600))).isoformat()

    # --- small helpers -----------------------------------------------------------------------------

    def code(self, kind: str, name: str) -> int:
        return self.codes[kind][name]

    def weighted(self, cum: list[float]) -> int:
        return bisect(cum, self.rng.random() * cum[-1])

    def name(self, sex: str) -> str:
        rng = self.rng
        last = self.last_names[self.weighted(self.last_cum)]
        given = rng.choice(self.male_names if sex == "M" else self.female_names)
        return last + given

    def id_number(self, birth: date, sex: str, area: str | None = None) -> str:
        rng = self.rng
        area = area or (HOME_AREA if rng.random() < 0.7 else rng.choice(OTHER_AREAS))
        stem = f"{area}{birth:%Y%m%d}"
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
            body = f"{stem}{seq:03d}"
            key = int(body)
            if key not in self.used:
                self.used.add(key)
                return body + ric.calc_check_digit(body + "0")

    def birth_date(self) -> date:
        low, high, _w = BIRTH_DECADES[self.weighted(self.decade_cum)]
        return date(self.rng.randint(low, high), 1, 1) + timedelta(days=self.rng.randrange(365))

    def phone(self) -> str:
        rng = self.rng
        return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"

    def address(self, street: str, community: str) -> str:
        rng = self.rng
        return f"南京市浦口区{street}{community}{rng.choice(self.streets)}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"

    # --- one person --------------------------------------------------------------------------------

    def person(self) -> Person:
        rng, code, codes = self.rng, self.code, self.codes
        unit_id, _unit_code, community, street = self.units[self.weighted(self.unit_cum)]
        survivor = rng.random() < 0.012
        sex = "F" if (survivor and rng.random() < 0.7) or (not survivor and rng.random() < 0.04) else "M"
        birth = self.birth_date()
        number = self.id_number(birth, sex)
        digest = crypto.blind_index(number)
        name = self.name(sex)
        if name not in self.pinyin:
            self.pinyin[name] = name_pinyin(name)
        full_pinyin, initials = self.pinyin[name]
        age = DEMO_TODAY.year - birth.year
        rural = rng.random() < 0.55
        categories: list[int] = []
        care: list = []
        enlist = discharge = report = None
        branch = mil_cat = rank = mode = cert = None
        cert_number = troop = enlist_place = placement_unit = ""
        unit_nature = None
        years = 0
        if survivor:
            primary = code(CodeKind.CATEGORY, rng.choice(SURVIVOR_CATEGORIES))
        else:
            # Service: category, length, then dates that fit the birth date and end before DEMO_TODAY.
            draw = rng.random()
            kind = "义务兵" if draw < 0.55 else "士官/军士" if draw < 0.88 else "军官" if draw < 0.98 else "文职人员"
            years = {"义务兵": 0, "士官/军士": rng.choice((3, 3, 5, 5, 5, 8, 8, 12, 12, 16)),
                     "军官": rng.randint(8, 30), "文职人员": rng.randint(5, 20)}[kind]
            earliest = birth.year + rng.randint(17, 20)
            if kind == "义务兵":
                years = 3 if earliest < 1999 else 2
            latest = DEMO_TODAY.year - 1 - years
            if latest < earliest:
                years = max(2, DEMO_TODAY.year - 1 - earliest)
                latest = DEMO_TODAY.year - 1 - years
            if latest < earliest:
                earliest = latest = birth.year + 17
                years = 2
            year = rng.randint(earliest, min(earliest + 3, latest))
            month = 12 if year < 2013 else 9 if year < 2020 else rng.choice((3, 9))
            enlist = date(year, month, rng.randint(1, 25))
            discharge = date(year + years, month, rng.randint(1, 28))
            if discharge > DEMO_TODAY:
                discharge = DEMO_TODAY - timedelta(days=rng.randint(30, 300))
            mil_cat = code(CodeKind.MILITARY_CATEGORY, kind)
            rank = code(CodeKind.RANK, self.rank_name(kind, years, discharge.year))
            branch = self.branch[self.weighted(self.branch_cum)][0]
            troop = f"{rng.randint(31000, 96999)}部队"
            area = number[:6]
            enlist_place = AREA_PLACES.get(area, "江苏省")
            retire_age = discharge.year - birth.year
            if discharge.year < 1985 and kind in ("义务兵", "士官/军士") and rng.random() < 0.6:
                mode_name = "复员"
            elif kind == "义务兵":
                mode_name = "自主就业"
            elif kind == "士官/军士":
                mode_name = ("退休" if retire_age >= 50 else
                             rng.choice(("安排工作", "安排工作", "逐月领取退役金", "自主就业")) if years >= 12 else "自主就业")
            elif kind == "军官":
                mode_name = ("退休" if years >= 28 or retire_age >= 50 else
                             rng.choice(("转业(计划分配)", "转业(计划分配)", "转业(自主择业)")))
            else:
                mode_name = rng.choice(("自主就业", "安排工作"))
            mode = code(CodeKind.DISCHARGE_MODE, mode_name)
            cert_name = {"复员": "复员证", "退休": "离退休证", "转业(计划分配)": "转业证", "转业(自主择业)": "转业证"}.get(
                mode_name, "退役证")
            cert = code(CodeKind.CERTIFICATE, cert_name)
            cert_number = f"{cert_name[0]}字第{discharge.year}{rng.randrange(10**6):06d}号"
            primary_name = {"复员": "复员军人", "退休": "军队离休退休干部和退休士官", "转业(计划分配)": "军队转业干部",
                            "转业(自主择业)": "军队转业干部"}.get(mode_name, "退役士兵")
            if mode_name in ("安排工作", "转业(计划分配)"):
                report = discharge + timedelta(days=rng.randint(60, 200))
                if report > DEMO_TODAY:
                    report = None
                else:
                    placement_unit = rng.choice(self.companies) if rng.random() < 0.5 else f"南京市浦口区{rng.choice(('人民政府', '城管局', '应急管理局', '交通运输局', '卫健委', '供电公司'))}"
                    unit_nature = code(CodeKind.UNIT_NATURE, rng.choice(("机关", "事业单位", "国有企业", "国有企业", "其他")))
            # Priority care, kept consistent with the service above.
            if rng.random() < 0.03:
                nature = rng.choice((DisabilityNature.WAR, DisabilityNature.DUTY, DisabilityNature.DUTY,
                                     DisabilityNature.ILLNESS))
                grade = self.weighted(self.grade_cum) + 1
                if nature == DisabilityNature.ILLNESS and grade > 6:
                    grade = rng.randint(1, 6)
                amount = GRADE_MONTHLY[grade] * (1 if nature == DisabilityNature.WAR else 0.92 if nature == DisabilityNature.DUTY else 0.85)
                care.append([code(CodeKind.CARE_CATEGORY, "残疾军人"), grade, nature.value,
                             code(CodeKind.BENEFIT, "定期抚恤金"), f"{amount:.2f}",
                             "centralised" if grade <= 2 and rng.random() < 0.3 else "", discharge, None])
                primary_name = "残疾军人"
            if 1977 <= enlist.year <= 1990 and rng.random() < 0.12:
                care.append([code(CodeKind.CARE_CATEGORY, "参战退役人员"), None, "", code(CodeKind.BENEFIT, "定期生活补助"),
                             f"{rng.choice((450, 500, 560)):.2f}", "", date(2007, 8, 1), None])
            elif 1958 <= enlist.year <= 1990 and rng.random() < 0.004:
                care.append([code(CodeKind.CARE_CATEGORY, "参试(涉核)退役人员"), None, "", code(CodeKind.BENEFIT, "定期生活补助"),
                             "620.00", "", date(2007, 8, 1), None])
            if mode_name == "复员" and rural and rng.random() < 0.6:
                care.append([code(CodeKind.CARE_CATEGORY, "在乡复员军人"), None, "", code(CodeKind.BENEFIT, "定期生活补助"),
                             f"{rng.choice((1300, 1450, 1600)):.2f}", "", date(2010, 1, 1), None])
            elif rural and age >= 60 and kind in ("义务兵", "士官/军士") and rng.random() < 0.4:
                care.append([code(CodeKind.CARE_CATEGORY, "60周岁以上农村籍退役士兵"), None, "",
                             code(CodeKind.BENEFIT, "定期生活补助"), f"{30 * max(years, 1):.2f}", "",
                             date(max(2011, birth.year + 60), birth.month, 1), None])
            elif rng.random() < 0.004:
                care.append([code(CodeKind.CARE_CATEGORY, "带病回乡退伍军人"), None, "", code(CodeKind.BENEFIT, "定期生活补助"),
                             "980.00", "", discharge + timedelta(days=365), None])
            primary = code(CodeKind.CATEGORY, primary_name)
            if primary_name != "退役士兵" and kind in ("义务兵", "士官/军士") and mode_name != "复员":
                categories.append(code(CodeKind.CATEGORY, "退役士兵"))
        if survivor:
            survivor_name = next(n for n, i in codes[CodeKind.CATEGORY].items() if i == primary)
            if survivor_name != "现役军人家属":
                care.append([code(CodeKind.CARE_CATEGORY, survivor_name), None, "", code(CodeKind.BENEFIT, "定期抚恤金"),
                             f"{rng.choice((1850, 2100, 2400)):.2f}", "", date(rng.randint(1990, 2020), 1, 1), None])
        categories.insert(0, primary)

        # Status: older people are more often deceased; a few moved out or cancelled.
        draw = rng.random()
        status, status_date, status_reason = VeteranStatus.ACTIVE.value, None, ""
        if draw < (0.25 if age >= 85 else 0.01):
            status, status_date, status_reason = VeteranStatus.DECEASED.value, DEMO_TODAY - timedelta(days=rng.randint(10, 2000)), "病故"
        elif draw > 0.985:
            status, status_date, status_reason = VeteranStatus.MOVED_OUT.value, DEMO_TODAY - timedelta(days=rng.randint(10, 1500)), "户籍迁出"
        elif draw > 0.982:
            status, status_date, status_reason = VeteranStatus.CANCELLED.value, DEMO_TODAY - timedelta(days=rng.randint(10, 1500)), "重复建档"

        political = code(CodeKind.POLITICAL, "中共党员" if rng.random() < 0.38 else "共青团员" if age < 28 and rng.random() < 0.6
                         else "群众")
        education = code(CodeKind.EDUCATION, rng.choice(
            ("小学及以下", "初中", "初中", "中专/高中") if birth.year < 1960 else
            ("初中", "中专/高中", "中专/高中", "大学专科") if birth.year < 1980 else
            ("中专/高中", "大学专科", "大学专科", "大学本科", "大学本科", "研究生")))
        marital = code(CodeKind.MARITAL, "未婚" if age < 24 or (age < 32 and rng.random() < 0.5) else
                       rng.choice(("已婚", "已婚", "已婚", "已婚", "离异", "丧偶" if age > 60 else "已婚")))
        health = code(CodeKind.HEALTH, rng.choice(("健康", "健康", "良好", "一般")) if age < 60 else
                      rng.choice(("良好", "一般", "一般", "较差", "患重病")))
        if care and care[0][2]:
            health = code(CodeKind.HEALTH, "残疾")
        ethnic = self.ethnic_ids[0] if rng.random() < 0.96 else rng.choice(self.ethnic_ids)
        address = self.address(street, community)
        hukou_address = address if rng.random() < 0.8 else self.address(street, community)
        phone = self.phone() if rng.random() < 0.97 else ""
        employment_name = ("离退休" if age >= 60 or mode_name_is_retired(mode, codes) else
                           rng.choice(("单位就业", "单位就业", "灵活就业", "新业态就业", "自主创业", "公益性岗位", "未就业")))
        tags = []
        for tag, share in (("困难退役军人", 0.04), ("重点关注", 0.03), ("兵支书", 0.01 if 30 <= age <= 60 else 0),
                           ("退役军人企业家", 0.01 if employment_name == "自主创业" else 0), ("志愿者", 0.05)):
            if rng.random() < share:
                tags.append(code(CodeKind.TAG, tag))

        fields = [
            unit_id, status, status_date, status_reason, name, full_pinyin, initials, digest, idnumber.mask(number),
            sex, birth, ethnic, political, education, marital, health,
            HukouType.RURAL.value if rural else HukouType.URBAN.value, hukou_address, address, phone, primary,
            enlist, enlist_place, discharge, branch, troop, rng.random() < 0.01 and enlist is not None, mil_cat, rank,
            mode, cert, cert_number, report, placement_unit, unit_nature, code(CodeKind.EMPLOYMENT, employment_name),
            "", *([self.created()] * 2), None,
        ]
        person = Person(number=number, digest=digest, fields=fields, categories=categories,
                        tags=tags, care=care)
        self.add_family(person, sex, birth, age, married=marital == code(CodeKind.MARITAL, "已婚"),
                        survivor_kind=primary if survivor else None)
        self.add_card(person, status, survivor)
        return person

    @staticmethod
    def rank_name(kind: str, years: int, discharge_year: int) -> str:
        if kind == "义务兵":
            return "上等兵" if years >= 2 else "列兵"
        if kind == "士官/军士":
            if discharge_year >= 2022:  # ranks renamed in 2022
                return "下士" if years <= 5 else "中士" if years <= 8 else "二级上士" if years <= 12 else "一级上士"
            return "一级士官" if years <= 5 else "二级士官" if years <= 8 else "三级士官" if years <= 12 else "四级士官"
        if kind == "军官":
            return ("中尉" if years < 10 else "上尉" if years < 13 else "少校" if years < 17 else "中校" if years < 22
                    else "上校" if years < 28 else "大校")
        return f"文职{'九八七六五四'[min(years // 4, 5)]}级"

    def add_family(self, person: Person, sex: str, birth: date, age: int, *, married: bool, survivor_kind) -> None:
        rng, code = self.rng, self.code
        if rng.random() >= 0.25 and survivor_kind is None:
            return
        relation_health = code(CodeKind.HEALTH, "健康")
        if married and rng.random() < 0.85:
            spouse_sex = "F" if sex == "M" else "M"
            spouse_birth = birth + timedelta(days=rng.randint(-1500, 2500))
            spouse_birth = min(spouse_birth, date(2004, 12, 31))
            person.family.append((self.id_number(spouse_birth, spouse_sex, person.number[:6]) if rng.random() < 0.8 else "",
                                  [code(CodeKind.RELATION, "配偶"), self.name(spouse_sex),
                                   self.phone() if rng.random() < 0.7 else "",
                                   rng.choice(self.companies) if age < 60 and rng.random() < 0.6 else "", relation_health,
                                   False, "", None, None]))
        if age >= 28:
            for _child in range(rng.choice((0, 1, 1, 1, 2))):
                child_sex = rng.choice("MF")
                child_birth = birth + timedelta(days=365 * rng.randint(23, 33) + rng.randrange(365))
                if child_birth > DEMO_TODAY:
                    continue
                active = survivor_kind is not None and child_birth.year <= 2006 and not any(f[1][5] for f in person.family)
                number = (self.id_number(child_birth, child_sex, HOME_AREA)
                          if child_birth.year <= 2006 and rng.random() < 0.7 else "")
                person.family.append((number, [
                    code(CodeKind.RELATION, "儿子" if child_sex == "M" else "女儿"), self.name(child_sex),
                    self.phone() if child_birth.year <= 2006 and rng.random() < 0.6 else "",
                    rng.choice(self.companies) if child_birth.year <= 2002 and rng.random() < 0.5 and not active else "",
                    relation_health, active, f"{rng.choice(('新疆', '西藏', '海南', '福建', '北京', '江苏'))}某部" if active else "",
                    code(CodeKind.MILITARY_CATEGORY, "义务兵") if active else None,
                    code(CodeKind.RANK, "上等兵") if active else None,
                ]))
        elif age < 30 and rng.random() < 0.5:
            for relation, parent_sex in (("父亲", "M"), ("母亲", "F")):
                parent_birth = birth - timedelta(days=365 * rng.randint(22, 32) + rng.randrange(365))
                number = self.id_number(parent_birth, parent_sex, person.number[:6]) if rng.random() < 0.6 else ""
                person.family.append((number, [code(CodeKind.RELATION, relation), self.name(parent_sex),
                                           self.phone() if rng.random() < 0.8 else "", "", relation_health, False, "",
                                           None, None]))

    def add_card(self, person: Person, status: str, survivor: bool) -> None:
        rng = self.rng
        if status != VeteranStatus.ACTIVE or rng.random() >= 0.55:
            return
        draw = rng.random()
        card_status = (CardStatus.ISSUED if draw < 0.82 else CardStatus.PRODUCED if draw < 0.87 else
                       CardStatus.APPROVED if draw < 0.91 else CardStatus.APPLIED if draw < 0.96 else CardStatus.LOST)
        # Applications over the last ~3 years up to today (the dashboard counts those of each period).
        applied = self.today - timedelta(days=130 + rng.randrange(1000))
        events = [(CardEventKind.APPLY.value, applied, "")]
        issued = None
        if card_status in (CardStatus.ISSUED, CardStatus.LOST):
            issued = applied + timedelta(days=rng.randint(30, 120))
            events.append((CardEventKind.ISSUE.value, issued, "服务站发放"))
            if card_status == CardStatus.LOST:
                events.append((CardEventKind.LOSS.value, min(issued + timedelta(days=rng.randint(20, 300)), self.today),
                               "本人挂失"))
        number = f"{HOME_AREA}{applied:%y}{rng.randrange(10**8):08d}" if issued else ""
        card_type = CardType.SURVIVOR.value if survivor else CardType.VETERAN.value
        person.card = (card_type, number, card_status.value, issued, events)


def mode_name_is_retired(mode: int | None, codes: dict[str, dict[str, int]]) -> bool:
    return mode is not None and mode == codes[CodeKind.DISCHARGE_MODE]["退休"]


class CopyWriter:
    """Writes generated people with COPY, assigning ids from the tables' own sequences."""

    def __init__(self, created_at: str):
        self.created_at = created_at
        self.raw = connection.cursor().connection.cursor()  # a psycopg cursor on Django's connection
        self.counts = {"veterans": 0, "family": 0, "care": 0, "cards": 0}

    def ids(self, model: type[models.Model], n: int) -> list[int]:
        if not n:
            return []
        self.raw.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                         [model._meta.db_table, model._meta.pk.column, n])
        return [row[0] for row in self.raw.fetchall()]

    def copy(self, model: type[models.Model], columns: tuple[str, ...], lines: list[str]) -> None:
        if not lines:
            return
        with self.raw.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for start in range(0, len(lines), 5000):
                copy.write("".join(lines[start:start + 5000]))

    def write(self, people: list[Person]) -> None:
        encrypt, blind_index, mask = crypto.encrypt, crypto.blind_index, idnumber.mask
        veteran_ids = self.ids(Veteran, len(people))
        card_ids = iter(self.ids(PreferentialCard, sum(1 for p in people if p.card)))
        veterans, cats, tags, family, care, cards, events = [], [], [], [], [], [], []
        created = self.created_at
        for pk, person in zip(veteran_ids, people, strict=True):
            veterans.append(f"{pk}\t{encrypt(person.number)}\t" + "\t".join(map(_s, person.fields)) + "\n")
            cats.extend(f"{pk}\t{c}\n" for c in person.categories)
            tags.extend(f"{pk}\t{t}\n" for t in person.tags)
            for number, member in person.family:
                secret = (encrypt(number), blind_index(number), mask(number)) if number else ("", "", "")
                family.append(f"{pk}\t" + "\t".join(secret) + "\t" + "\t".join(map(_s, member)) + "\n")
            for entitlement in person.care:
                care.append(f"{pk}\t" + "\t".join(map(_s, entitlement)) + "\n")
            if person.card:
                card_id = next(card_ids)
                card_type, number, status, issued, lifecycle = person.card
                cards.append(f"{card_id}\t{pk}\t{card_type}\t{number}\t{status}\t{_s(issued)}\n")
                events.extend(f"{card_id}\t{kind}\t{day}\t{note}\t{created}\n" for kind, day, note in lifecycle)
        self.copy(Veteran, VETERAN_COLUMNS, veterans)
        self.copy(Veteran.categories.through, ("veteran_id", "code_id"), cats)
        self.copy(Veteran.tags.through, ("veteran_id", "code_id"), tags)
        self.copy(FamilyMember, FAMILY_COLUMNS, family)
        self.copy(CareEntitlement, CARE_COLUMNS, care)
        self.copy(PreferentialCard, CARD_COLUMNS, cards)
        self.copy(CardEvent, CARD_EVENT_COLUMNS, events)
        for key, rows in (("veterans", veterans), ("family", family), ("care", care), ("cards", cards)):
            self.counts[key] += len(rows)


def demo_units() -> list[tuple[int, str, str, str]]:
    """(id, code, name, street name) of every active community/village (depth 3), in code order."""
    streets = dict(OrgUnit.objects.filter(depth=2).values_list("path", "name"))
    return [(pk, code, name, streets.get(path[:-OrgUnit.steplen], ""))
            for pk, code, name, path in OrgUnit.objects.filter(depth=3, is_active=True).order_by("code")
            .values_list("pk", "code", "name", "path")]


def code_tables() -> dict[str, dict[str, int]]:
    tables: dict[str, dict[str, int]] = {}
    for kind, name, pk in Code.objects.order_by("kind", "sort_order", "code").values_list("kind", "name", "pk"):
        tables.setdefault(kind, {})[name] = pk
    return tables


def seed(*, veterans: int, seed: int = 2026, stdout, password: str | None = None, **_options) -> int:
    """Make sure at least ``veterans`` demo veterans exist; returns how many were added."""
    existing = Veteran.objects.count()
    if veterans <= existing:
        stdout.write(f"registry: {existing} veterans present, none added")
        return 0
    units = demo_units()
    if not units:
        stdout.write("registry: no community (depth 3) in the org-unit tree; load the demo district first")
        return 0
    started = time.monotonic()
    with connection.cursor() as cursor:
        # Inside seed_demo's pghistory context this statement also attaches the context to the transaction,
        # so the triggers fired by COPY record it. Losing the demo on a crash is harmless: no sync wait.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Check foreign keys row by row: with millions of deferred checks queued, every history trigger
        # fired afterwards gets slower (seeding turns quadratic: 450 rows/s instead of thousands).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    known = set(Veteran.objects.values_list("id_number_hash", flat=True)) if existing else set()
    generator = Generator(seed, units, code_tables())
    writer = CopyWriter(generator.created_at)
    sizes = [min(CHUNK, veterans - start) for start in range(0, veterans, CHUNK)]

    def make(size: int) -> list[Person]:
        return [generator.person() for _ in range(size)]

    # One thread generates the next chunk (pure Python, no database) while this one writes the last:
    # the database works on its own core while the GIL is released around COPY. Chunks are made in
    # order by a single worker, so the people stay the same whatever the timing.
    done = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(make, sizes[0])
        for index in range(len(sizes)):
            batch = pending.result()
            if index + 1 < len(sizes):
                pending = pool.submit(make, sizes[index + 1])
            writer.write([p for p in batch if p.digest not in known] if known else batch)
            done += len(batch)
            if done % 100_000 == 0 or done == veterans:
                rate = done / max(time.monotonic() - started, 1e-6)
                stdout.write(f"registry: {done}/{veterans} generated, {writer.counts['veterans']} added ({rate:,.0f}/s)")
    with connection.cursor() as cursor:
        # Fresh statistics, the org-unit tree and code tables included: without them PostgreSQL guesses one
        # unit per subtree and sorts a whole street instead of walking the primary key (15 ms → 1 ms).
        for model in (OrgUnit, Code, Veteran, Veteran.categories.through, Veteran.tags.through, FamilyMember,
                      CareEntitlement, PreferentialCard, CardEvent, Veteran.pgh_event_model):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    moved = demo_transfers(seed)
    elapsed = time.monotonic() - started
    counts = writer.counts
    stdout.write(f"registry: veterans added={counts['veterans']} family={counts['family']} care={counts['care']} "
                 f"cards={counts['cards']} transfers={moved} in {elapsed:.1f}s ({counts['veterans'] / max(elapsed, 1e-6):,.0f} veterans/s)")
    return counts["veterans"]


def demo_transfers(seed: int, count: int = 24) -> int:
    """A few transfers over the last fifteen months (through the service: the history, the person's visits
    and tasks follow): most to another village of the district, some out of it. Returns how many."""
    from .services import veteran_transfer

    rng = random.Random(seed + 2)
    villages = [pk for pk, *_rest in demo_units()]
    today = timezone.localdate()
    people = list(Veteran.objects.filter(status=VeteranStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)[:2000])
    if len(villages) < 2 or not people:
        return 0
    done = 0
    for pk in rng.sample(people, min(count, len(people))):
        person = Veteran.objects.get(pk=pk)
        on = max(today - timedelta(days=rng.randint(1, 450)), person.created_at.date())
        if rng.random() < 0.25:
            veteran_transfer(actor=None, veteran=person, to_unit=None, on=on, reason="户籍迁出",
                             destination=rng.choice(["南京市鼓楼区", "南京市江宁区", "滁州市"]))
        else:
            target = rng.choice([v for v in villages if v != person.org_unit_id])
            veteran_transfer(actor=None, veteran=person, to_unit=OrgUnit.objects.get(pk=target), on=on,
                             reason="户籍迁移")
        done += 1
    return done
