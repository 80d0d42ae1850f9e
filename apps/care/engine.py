"""The rule engine: visit rules become due visits (待走访任务) with set-based SQL.

Each active rule is turned into one ``INSERT INTO care_duevisit … SELECT … ON CONFLICT DO NOTHING`` per
chunk of record ids. The SELECT is built with the ORM (the rule's selector as ``Exists``/``Q``, the dates as
expressions) and compiled to SQL; the unique key ``(rule, veteran, period_key)`` makes every run idempotent.
A period key names the occurrence a task belongs to: ``I2027-01`` (interval period starting January 2027),
``F2027`` (the 2027 festival), ``B2027`` (the 2027 birthday), ``R2026-11-03`` (reported home that day),
``E123`` (life event 123).

Festival dates on the lunar calendar come from ``lunar_python`` (春节 = lunar 1/1, 中秋 = lunar 8/15).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from django.db import connection, models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from lunar_python import Lunar

from apps.core import reference
from apps.core.sql import Placeholder, Statement, StatementCache
from apps.registry.choices import CodeKind, VeteranStatus
from apps.registry.models import CareEntitlement, Veteran

from .choices import Calendar, RuleKind, TaskStatus, VisitMode
from .models import Campaign, DueVisit, LifeEvent, Visit, VisitRule

# Life events and reports older than this are history, not a visit to make now.
EVENT_LOOKBACK_DAYS = 90


def festival_date(rule: VisitRule, year: int) -> date:
    """The festival's date in ``year`` (solar), e.g. 春节 2027 → 2027-02-06, 八一 → 08-01."""
    return _festival_date(rule.calendar, rule.month, rule.day, year)


@lru_cache(maxsize=1024)
def _festival_date(calendar_kind: str, month: int, day: int, year: int) -> date:
    # lunar_python computes the calendar astronomically (milliseconds per date): computed once per process.
    if calendar_kind == Calendar.LUNAR:
        solar = Lunar.fromYmd(year, month, day).getSolar()
        return date(solar.getYear(), solar.getMonth(), solar.getDay())
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day, last))


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Occurrence:
    """A period a rule applies to, the same for everyone it selects."""

    key: str
    opens_on: date
    due_date: date
    campaign: Campaign | None = None


def interval_period(rule: VisitRule, on: date) -> Occurrence:
    """The period of ``interval_months`` months (counted from January) that contains ``on``."""
    months = rule.interval_months
    start_index = ((on.month - 1) // months) * months
    start = date(on.year, start_index + 1, 1)  # services.rule_save admits only divisors of 12
    end = add_months(start, months) - timedelta(days=1)
    return Occurrence(key=f"I{start:%Y-%m}", opens_on=start, due_date=end)


def festival_occurrences(rule: VisitRule, on: date) -> list[Occurrence]:
    """This year's or next year's festival when ``on`` lies between its opening (lead days before) and the day."""
    found = []
    for year in (on.year, on.year + 1):
        day = festival_date(rule, year)
        opens = day - timedelta(days=rule.lead_days)
        if opens <= on <= day:
            found.append(Occurrence(key=f"F{year}", opens_on=opens, due_date=day))
    return found


def campaign_for(rule: VisitRule, occurrence: Occurrence) -> Campaign:
    year = occurrence.key[1:]
    campaign, _ = Campaign.objects.get_or_create(
        rule=rule, period_key=occurrence.key,
        defaults={"name": f"{year} {rule.occasion.name}", "starts_on": occurrence.opens_on,
                  "ends_on": occurrence.due_date})
    return campaign


# --- whom a rule selects ----------------------------------------------------------------------


def years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def selector_q(rule: VisitRule, on: date) -> Q:
    """The people a rule applies to, as a filter on active records. A rule must select someone explicitly
    (``everyone`` or at least one criterion): ``services.rule_save`` refuses a rule without a selector."""
    q = Q(status=VeteranStatus.ACTIVE)
    if rule.key_recipients_only:
        # The categories' ids, not a join on the code table: the planner then knows from the entitlements'
        # statistics how many people they hold (the join made it guess a tenth and loop over them).
        q &= Q(Exists(CareEntitlement.objects.filter(veteran=OuterRef("pk"), category__in=key_recipient_codes())))
    care = [code.pk for code in rule.care_categories.all()]
    if care:
        q &= Q(Exists(CareEntitlement.objects.filter(veteran=OuterRef("pk"), category__in=care)))
    categories = [code.pk for code in rule.categories.all()]
    if categories:
        through = Veteran.categories.through
        q &= Q(primary_category__in=categories) | Q(Exists(through.objects.filter(veteran=OuterRef("pk"),
                                                                               code__in=categories)))
    modes = [code.pk for code in rule.discharge_modes.all()]
    if modes:
        q &= Q(discharge_mode__in=modes)
    tags = [code.pk for code in rule.tags.all()]
    if tags:
        q &= Q(Exists(Veteran.tags.through.objects.filter(veteran=OuterRef("pk"), code__in=tags)))
    paths = [unit.path for unit in rule.org_units.all()]
    if paths:
        unit_q = Q()
        for path in paths:
            unit_q |= Q(org_unit__path__startswith=path)
        q &= unit_q
    if rule.min_age is not None and rule.kind != RuleKind.BIRTHDAY:  # birthday rules test the age at the birthday
        q &= Q(birth_date__lte=years_before(on, rule.min_age))
    if rule.max_age is not None:
        q &= Q(birth_date__gt=years_before(on, rule.max_age + 1))
    return q


def key_recipient_codes() -> tuple[int, ...]:
    """The care categories whose holders are key care recipients (重点优抚对象), from the code-table copy
    the process keeps (one version query)."""
    codes = reference.snapshot().by_kind.get(CodeKind.CARE_CATEGORY, [])
    return tuple(code.pk for code in codes if code.is_key_recipient)


# --- rows to insert ------------------------------------------------------------------------------

COLUMNS = ("rule_id", "veteran_id", "org_unit_id", "occasion_id", "campaign_id", "life_event_id", "period_key",
           "opens_on", "due_date", "status", "level", "created_at")


def visit_answers(rule: VisitRule, visit: Visit) -> bool:
    """Whether a visit answers a rule (in the period it falls in): a visit of the rule's occasion, at home
    when the rule asks for a home visit. A festival visit is not the year's contact visit: each rule is
    answered by its own occasion (``_already_visited`` is the same test in SQL)."""
    return visit.occasion_id == rule.occasion_id and (visit.mode == VisitMode.HOME or not rule.home_visit_required)


def _already_visited(rule: VisitRule, opens_on, due_date, person: str = "pk") -> Exists:
    """A visit in the period that answers the rule (``visit_answers``): the period asks for nothing more."""
    visits = Visit.objects.filter(veteran=OuterRef(person), date__gte=opens_on, date__lte=due_date,
                                  occasion_id=rule.occasion_id)
    if rule.home_visit_required:
        visits = visits.filter(mode=VisitMode.HOME)
    return Exists(visits)


def _constant(value, field: models.Field):
    return Value(value, output_field=field)


# The birth date column, for the raw birthday arithmetic (names from the model, quoted).
BIRTH_DATE = f'"{Veteran._meta.db_table}"."{Veteran._meta.get_field("birth_date").column}"'

# A typed NULL: the SELECTs are joined with UNION ALL, where an untyped NULL would be taken for text.
NULL_ID = Cast(Value(None), models.BigIntegerField())


def _rows(rule: VisitRule, on: date, ids, id_range: tuple[int, int] | None, *, now=None,
          campaigns: dict | None = None) -> list[models.QuerySet]:
    """The SELECTs whose rows are the rule's due visits on ``on`` (one per occurrence). ``ids`` may be the
    ``IDS`` placeholder (see ``_compiled``)."""
    now = now if now is not None else timezone.now()
    base = Veteran.objects.filter(selector_q(rule, on))
    if ids is not None:
        base = base.filter(pk__any_of=ids)
    if id_range is not None:
        base = base.filter(pk__gte=id_range[0], pk__lt=id_range[1])
    common = {"r_rule": _constant(rule.pk, models.IntegerField()),
              "r_occasion": _constant(rule.occasion_id, models.IntegerField()),
              "r_status": _constant(TaskStatus.OPEN, models.CharField()),
              "r_level": _constant(0, models.IntegerField()),
              # Raw, not Value: Value would parse the clock's placeholder as a datetime.
              "r_created": RawSQL("%s::timestamptz", (now,), output_field=models.DateTimeField())}
    selects = []
    if rule.kind in (RuleKind.INTERVAL, RuleKind.FESTIVAL):
        occurrences = [interval_period(rule, on)] if rule.kind == RuleKind.INTERVAL else festival_occurrences(rule, on)
        for occ in occurrences:
            campaign = None
            if rule.kind == RuleKind.FESTIVAL:
                campaign = (campaigns or {}).get((rule.pk, occ.key)) or campaign_for(rule, occ)
            qs = base.filter(~_already_visited(rule, occ.opens_on, occ.due_date)).annotate(
                **common,
                r_campaign=_constant(campaign.pk, models.BigIntegerField()) if campaign else NULL_ID,
                r_event=NULL_ID,
                r_key=_constant(occ.key, models.CharField()),
                r_opens=_constant(occ.opens_on, models.DateField()),
                r_due=_constant(occ.due_date, models.DateField()))
            selects.append(qs.values_list("r_rule", "pk", "org_unit_id", "r_occasion", "r_campaign", "r_event",
                                          "r_key", "r_opens", "r_due", "r_status", "r_level", "r_created"))
    elif rule.kind == RuleKind.BIRTHDAY:
        horizon = on + timedelta(days=rule.lead_days)
        for year in sorted({on.year, horizon.year}):
            birthday = RawSQL(f"({BIRTH_DATE} + make_interval(years => %s - "  # noqa: S611 - names from the model
                              f"extract(year from {BIRTH_DATE})::int))::date", (year,),
                              output_field=models.DateField())
            qs = base.annotate(r_birthday=birthday).filter(r_birthday__gte=on, r_birthday__lte=horizon)
            if rule.min_age is not None:
                qs = qs.filter(birth_date__lt=date(year - rule.min_age + 1, 1, 1))
            opens = RawSQL(f"({BIRTH_DATE} + make_interval(years => %s - "  # noqa: S611 - names from the model
                           f"extract(year from {BIRTH_DATE})::int) - make_interval(days => %s))::date",
                           (year, rule.lead_days), output_field=models.DateField())
            qs = qs.annotate(**common, r_campaign=NULL_ID,
                             r_event=NULL_ID,
                             r_key=_constant(f"B{year}", models.CharField()), r_opens=opens, r_due=F("r_birthday"))
            selects.append(qs.values_list("r_rule", "pk", "org_unit_id", "r_occasion", "r_campaign", "r_event",
                                          "r_key", "r_opens", "r_due", "r_status", "r_level", "r_created"))
    elif rule.kind == RuleKind.AFTER_REPORT:
        days = timedelta(days=rule.due_within_days)
        welcomed = Visit.objects.filter(veteran=OuterRef("pk"), occasion_id=rule.occasion_id,
                                        date__gte=OuterRef("report_date"))
        qs = base.filter(report_date__gte=on - timedelta(days=EVENT_LOOKBACK_DAYS), report_date__lte=on).filter(
            ~Exists(welcomed)).annotate(
            **common, r_campaign=NULL_ID,
            r_event=NULL_ID,
            r_key=Concat(Value("R"), Cast("report_date", models.CharField())),
            r_opens=F("report_date"),
            r_due=models.ExpressionWrapper(F("report_date") + days, output_field=models.DateField()))
        selects.append(qs.values_list("r_rule", "pk", "org_unit_id", "r_occasion", "r_campaign", "r_event",
                                      "r_key", "r_opens", "r_due", "r_status", "r_level", "r_created"))
    elif rule.kind == RuleKind.AFTER_EVENT:
        kinds = [kind.pk for kind in rule.event_occasions.all()]
        days = timedelta(days=rule.due_within_days)
        # An event already answered (a visit of this occasion since the event, e.g. a merit notice delivered
        # before the nightly run saw it) asks for nothing more.
        answered = Visit.objects.filter(veteran=OuterRef("veteran_id"), occasion_id=rule.occasion_id,
                                        date__gte=OuterRef("date"))
        events = LifeEvent.objects.filter(occasion__in=kinds, date__gte=on - timedelta(days=EVENT_LOOKBACK_DAYS),
                                          date__lte=on, veteran__in=base.values("pk")).filter(~Exists(answered))
        qs = events.annotate(
            **common, r_campaign=NULL_ID,
            r_key=Concat(Value("E"), Cast("pk", models.CharField())),
            r_due=models.ExpressionWrapper(F("date") + days, output_field=models.DateField()))
        selects.append(qs.values_list("r_rule", "veteran_id", "veteran__org_unit_id", "r_occasion", "r_campaign",
                                      "pk", "r_key", "date", "r_due", "r_status", "r_level", "r_created"))
    return selects


def _insert_sql(selects: list[models.QuerySet], *, reminded_on: date | None = None) -> tuple[str, list]:
    """One statement for all the SELECTs (``UNION ALL``): one round trip per chunk or per person. With
    ``reminded_on``, the tasks already open on that day are written as reminded on it."""
    if not selects:
        return "", []
    parts, params = [], []
    for select in selects:
        sql, part_params = select.query.get_compiler(using=select.db).as_sql()
        parts.append(f"({sql})")
        params.extend(part_params)
    table = DueVisit._meta.db_table
    rows = " UNION ALL ".join(parts)
    columns = ", ".join(COLUMNS)
    if reminded_on is not None:
        rows = (f"SELECT s.*, CASE WHEN s.opens_on <= %s THEN %s::date END "  # noqa: S608
                f"FROM ({rows}) AS s ({columns})")
        params = [reminded_on, reminded_on, *params]  # these placeholders come first in the text
        columns += ", notified_on"
    return (f"INSERT INTO {table} ({columns}) {rows} "  # noqa: S608
            f"ON CONFLICT (rule_id, veteran_id, period_key) DO NOTHING"), params


def _insert(statement: tuple[str, list]) -> int:
    sql, params = statement
    if not sql:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- statements compiled once --------------------------------------------------------------------
# Recomputing one person runs the same statements with another id: building them with the ORM cost more
# than running them (about half of a recompute). They are compiled once per set of rules and day with
# placeholders for the ids and the clock, then run with the values bound.


IDS = Placeholder("ids")
NOW = Placeholder("now")
_COMPILED = StatementCache(maxsize=64)  # a new day or new rules: the old statements are not needed any more


# ``__any_of`` (one array parameter, the same SQL for any number of ids): apps/core/lookups.py.


def rules_key(rules: Sequence[VisitRule]) -> tuple:
    """What the compiled SQL of these rules depends on: ``services.rule_save`` moves ``updated_at`` whenever
    anything of a rule (its selectors included) changes; and which care categories are key recipients'."""
    key = tuple((rule.pk, rule.updated_at, rule.is_active) for rule in rules)
    if any(rule.key_recipients_only for rule in rules):
        key += (key_recipient_codes(),)
    return key


def _compiled(key: tuple, build) -> Statement:
    return _COMPILED.get(key, lambda: Statement.compile(*build(), (IDS, NOW)))


def load_rules(queryset=None) -> list[VisitRule]:
    """Rules with everything the engine reads, fetched once (the selectors then cost no query)."""
    queryset = queryset if queryset is not None else VisitRule.objects.all()
    return list(queryset.select_related("occasion").prefetch_related(
        "event_occasions", "categories", "care_categories", "discharge_modes", "tags", "org_units"))


_RULES_CACHE: dict = {}


def all_rules() -> list[VisitRule]:
    """Every rule, loaded once per process and again only when a rule changed: one cheap query instead of
    seven when one person is recomputed. ``services.rule_save`` saves the rule row (``updated_at``) in the
    transaction that sets its selectors, so the signature changes whenever anything of a rule does."""
    signature = tuple(VisitRule.objects.aggregate(n=models.Count("pk"), changed=models.Max("updated_at")).values())
    if _RULES_CACHE.get("signature") != signature:
        _RULES_CACHE.update(signature=signature, rules=load_rules())
    return _RULES_CACHE["rules"]


def generate(rule: VisitRule, on: date, *, ids: Sequence[int] | None = None,
             id_range: tuple[int, int] | None = None) -> int:
    """Create the due visits of one rule on ``on`` (for the records ``ids`` or in ``id_range``, else all).
    Returns how many were new."""
    return generate_all([rule], on, ids=ids, id_range=id_range)


def generate_all(rules: Sequence[VisitRule], on: date, *, ids: Sequence[int] | None = None,
                 id_range: tuple[int, int] | None = None) -> int:
    """Create the due visits of all these rules in one statement; returns how many were new."""
    rules = [rule for rule in rules if rule.is_active]
    campaigns = festival_campaigns(rules, on)
    if ids is None:
        return _insert(_insert_sql([select for rule in rules
                                    for select in _rows(rule, on, None, id_range, campaigns=campaigns)]))
    # A few people (a record changed): the same SQL every time for these rules on this day, compiled once.
    key = ("insert", rules_key(rules), on, tuple(sorted((k, c.pk) for k, c in campaigns.items())))
    statement = _compiled(key, lambda: _insert_sql([
        select for rule in rules for select in _rows(rule, on, IDS, None, now=NOW, campaigns=campaigns)]))
    return _insert((statement.sql, statement.bind(ids=list(ids), now=timezone.now())))


def generate_chunk(rules: Sequence[VisitRule], on: date, id_range: tuple[int, int]) -> Counter:
    """The nightly run's statement for one chunk of records: creates the chunk's due visits, marks those
    already open as reminded today and returns how many of those (due later than today) each unit got, so
    that the run tells each station once, from these counts, instead of updating a million fresh rows a
    second time."""
    rules = [rule for rule in rules if rule.is_active]
    campaigns = festival_campaigns(rules, on)
    sql, params = _insert_sql([select for rule in rules
                               for select in _rows(rule, on, None, id_range, campaigns=campaigns)], reminded_on=on)
    if not sql:
        return Counter()
    with connection.cursor() as cursor:
        # New for the station's notice: born open and due later (those due today or overdue are counted
        # as such by services.remind_due).
        cursor.execute(f"WITH born AS ({sql} RETURNING org_unit_id, notified_on, due_date) "  # noqa: S608 - compiled by the ORM
                       f"SELECT org_unit_id, count(*) FILTER (WHERE notified_on IS NOT NULL AND due_date > %s), "
                       f"count(*) FROM born GROUP BY org_unit_id", [*params, on])
        rows = cursor.fetchall()
    counts = Counter({unit: reminded for unit, reminded, _total in rows if reminded})
    counts[None] = sum(total for _unit, _reminded, total in rows)  # every task created
    return counts


def festival_campaigns(rules: Sequence[VisitRule], on: date) -> dict[tuple[int, str], Campaign]:
    """The campaign of each festival occurrence open on ``on`` (created when first needed)."""
    return {(rule.pk, occ.key): campaign_for(rule, occ) for rule in rules if rule.kind == RuleKind.FESTIVAL
            for occ in festival_occurrences(rule, on)}


def cancel_stale(rule: VisitRule | None, on: date, *, ids: Iterable[int] | None = None,
                 rules: Sequence[VisitRule] | None = None) -> int:
    """Cancel open tasks that no longer apply: the person left the register, or no longer matches the rule
    (or the rule was switched off). ``rule`` None: every rule (``rules``, else all). One UPDATE; returns how
    many were cancelled."""
    tasks = DueVisit.objects.open()
    people = Veteran.objects.all()
    if ids is not None:
        ids = list(ids)
        tasks = tasks.filter(veteran__any_of=IDS)
        people = people.filter(pk__any_of=IDS)
    if rule is not None:
        rules = [rule]
    elif rules is None:
        rules = all_rules()
    def stale(one: VisitRule) -> Q:
        if not one.is_active:
            return Q(rule=one)
        # NOT EXISTS, not NOT IN: PostgreSQL plans it as an anti-join, whatever the number of people.
        return Q(rule=one) & ~Q(Exists(people.filter(selector_q(one, on), pk=OuterRef("veteran_id"))))

    now = timezone.now()
    if ids is None:  # the whole district: one UPDATE per rule, each a plain anti-join
        return sum(tasks.filter(stale(one)).update(status=TaskStatus.CANCELLED, closed_at=now) for one in rules)
    def build() -> tuple[str, list]:
        condition = Q()
        for one in rules:  # a few people: one UPDATE for all rules
            condition |= stale(one)
        if not condition:
            return "", []
        sql, params = tasks.filter(condition).values("pk").query.get_compiler(using=tasks.db).as_sql()
        table = DueVisit._meta.db_table
        pk = DueVisit._meta.pk.column
        return (f"UPDATE {table} SET status = %s, closed_at = %s WHERE {pk} IN ({sql})",  # noqa: S608
                [TaskStatus.CANCELLED, NOW, *params])

    statement = _compiled(("cancel", rules_key(rules), on), build)
    if not statement.sql:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.bind(ids=ids, now=now))
        return cursor.rowcount


def sync_units(*, ids: Iterable[int] | None = None) -> int:
    """Open tasks follow their person to a new responsible unit (after a transfer)."""
    params: list = []
    where = ""
    if ids is not None:
        where = " AND d.veteran_id = ANY(%s)"
        params.append(list(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DueVisit._meta.db_table} d SET org_unit_id = v.org_unit_id, level = 0, escalated_on = NULL "  # noqa: S608 - table names from the models
            f"FROM {Veteran._meta.db_table} v WHERE v.id = d.veteran_id AND d.status = %s "
            f"AND d.org_unit_id <> v.org_unit_id{where}", [TaskStatus.OPEN, *params])
        return cursor.rowcount
