# ruff: noqa: S608 — SQL built from model table names and generated expressions; values are parameters
"""A year of care and honours data for the reports benchmark, written in SQL (``INSERT … SELECT``).

The registry seeder makes people (``seed_demo --veterans N``) and the nightly reminder run makes the coming
tasks; the reports' figures also count what happened in the past year. This module adds it at the demo's
proportions, in minutes for a million people (the Python services log ~1,400 rows/s; this does tens of
thousands): visits (key care recipients about once a quarter, everyone else about once a year, occasions
from ``care.Occasion``, some with 慰问金/慰问品), must-visit life events and the visits answering them,
merit notices to active-duty families (most delivered), plaques (hung over the years, some this year),
transfers, new preferential-card applications, and the year's tasks of the interval and life-event rules
(done when a visit answered them, else open and escalated by the rule's days, like the nightly run leaves them).

Draws are a hash of the row's key (``hashtext``), not ``random()``: the same database gives the same data.
Each part runs in its own transaction and is skipped when its rows are already there, so a second run adds
nothing. History triggers (pghistory) fire on the tracked tables as they do for any write; their cost is in
the timings logged. ``seed_year(log=…)`` returns ``{part: (rows, seconds)}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

TAG = "bench"  # written into a text column of every row made here (visitors, people, note…)
KEY_VISIT_SHARE = 0.88  # of a key recipient's quarters with a regular-contact visit
OTHER_VISIT_SHARE = 0.80  # of the others with a visit in the year
FESTIVAL_VISIT_SHARE = 0.35  # of key recipients visited before each festival
LIFE_EVENT_SHARE = 0.02  # people with a must-visit event in the year
LIFE_EVENT_ANSWERED = 0.90
MERIT_SHARE = 0.25  # of active-duty families with a merit notice in the year
MERIT_DELIVERED = 0.90
PLAQUE_SHARE = 0.55  # of people on the register whose family has a plaque
PLAQUE_THIS_YEAR = 0.30  # of those, hung in the past year (around 春节 and 八一)
PLAQUE_REPLACED = 0.08
TRANSFER_WITHIN = 0.005
TRANSFER_IN = 0.003
TRANSFER_OUT_OF_MOVED = 0.5
NEW_CARD_SHARE = 0.05  # of people without a card who applied in the year


def h(expr: str, salt: str) -> str:
    """SQL for a draw in [0, 1) from a hash of ``expr`` and ``salt``."""
    return f"((hashtext(({expr})::text || '{salt}')::bigint & 2147483647)::float8 / 2147483648.0)"


def pick(expr: str, salt: str, values: list[str]) -> str:
    """SQL choosing one of ``values`` (SQL literals) by a draw."""
    array = ", ".join(values)
    return f"(ARRAY[{array}])[1 + floor({h(expr, salt)} * {len(values)})::int]"


def quarter_starts(first: date, today: date) -> list[date]:
    """Starts of the calendar quarters beginning on or after ``first`` and not after ``today``."""
    found, day = [], date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while day <= today:
        if day >= first:
            found.append(day)
        day = date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    return found


def quarter_end(start: date) -> date:
    following = date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
    return following - timedelta(days=1)


def festivals(rules, start: date, today: date) -> list[tuple[str, date, int]]:
    """(occasion code, day, lead days) of each festival rule's festival in the year before ``today``."""
    from apps.care.engine import festival_date

    found = []
    for rule in rules:
        if rule.kind != "festival":
            continue
        for year in (start.year, today.year):
            day = festival_date(rule, year)
            if start <= day < today and (rule.occasion.code, day, rule.lead_days) not in found:
                found.append((rule.occasion.code, day, rule.lead_days))
    return found


def seed_year(*, today: date | None = None, log: Callable[[str], None] = print) -> dict[str, tuple[int, float]]:
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.care.models import DueVisit, LifeEvent, Occasion, Visit, VisitRule
    from apps.honors.models import MeritNotice, PlaqueRecord
    from apps.registry.models import CardEvent, Code, PreferentialCard, Transfer, Veteran

    today = today or timezone.localdate()
    start = today - timedelta(days=365)
    span = (today - start).days  # days start … today - 1
    occ = dict(Occasion.objects.values_list("code", "pk"))
    key_codes = list(Code.objects.filter(kind="care_category", is_key_recipient=True).values_list("pk", flat=True))
    villages = list(Veteran._meta.get_field("org_unit").related_model.objects.filter(depth=3, is_active=True)
                    .order_by("pk").values_list("pk", flat=True))
    rules = {r.pk: r for r in VisitRule.objects.filter(is_active=True)}
    quarterly = next((r for r in rules.values() if r.kind == "interval" and r.interval_months == 3), None)
    yearly = [r for r in rules.values() if r.kind == "interval" and r.interval_months == 12]
    must_rule = next((r for r in rules.values() if r.kind == "after_event" and r.occasion.code == "must_visit"), None)
    merit_rule = next((r for r in rules.values() if r.kind == "after_event" and r.occasion.code == "merit_delivery"), None)
    tz = "Asia/Shanghai"
    timings: dict[str, tuple[int, float]] = {}
    visits = Visit._meta.db_table
    tasks = DueVisit._meta.db_table
    events = LifeEvent._meta.db_table
    seq = "nextval(pg_get_serial_sequence('{table}', 'id'))"

    def run(part: str, statements: list[tuple[str, list | dict | None]], count_sql: str | None = None) -> None:
        started = time.monotonic()
        rows = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # Foreign keys checked row by row: millions of deferred checks slow every history trigger (7x here).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.rowcount and cursor.rowcount > 0 and sql.lstrip().upper().startswith(("INSERT", "WITH")):
                    rows += cursor.rowcount
        took = time.monotonic() - started
        timings[part] = (rows, took)
        log(f"seed {part}: {rows:,} rows in {took:.1f} s ({rows / max(took, 1e-6):,.0f}/s)")

    with connection.cursor() as cursor:
        # The people a year of care is about: active records, flagged when they hold a key care category.
        cursor.execute("DROP TABLE IF EXISTS bench_people")
        cursor.execute(
            "CREATE TEMP TABLE bench_people AS SELECT v.id, v.org_unit_id, EXISTS (SELECT 1 FROM "
            "registry_careentitlement ce WHERE ce.veteran_id = v.id AND ce.category_id = ANY(%s)) AS key "
            "FROM registry_veteran v WHERE v.status = 'active'", [key_codes])
        cursor.execute("CREATE INDEX ON bench_people (id)")
        cursor.execute("ANALYZE bench_people")
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE key) FROM bench_people")
        active, keys = cursor.fetchone()
    log(f"seed: {active:,} people on the register, {keys:,} key care recipients; the year {start} … {today - timedelta(days=1)}")
    params = {"start": start, "span": span, "today": today, "tz": tz, **{f"o_{k}": v for k, v in occ.items()}}

    # --- visits: key recipients' regular contact about once a quarter, the others about once a year, and
    # festival visits to key recipients in the days before 春节, 八一 and 中秋 --------------------------------
    if not Visit.objects.filter(date__gte=start, visitors__contains=TAG).exists():
        slot = "p.id * 8 + s.q"
        drawn = [f"""
            SELECT p.id, p.org_unit_id, p.key, s.q, %(o_contact)s AS occasion_id,
                   %(start)s::date + (s.q * %(span)s) / 4 + floor({h(slot, 'd')} * (%(span)s / 4))::int AS day
            FROM bench_people p CROSS JOIN generate_series(0, 3) AS s(q)
            WHERE p.key AND {h(slot, 'v')} < {KEY_VISIT_SHARE}""", f"""
            SELECT p.id, p.org_unit_id, p.key, 4, CASE WHEN {h('p.id', 'o')} < 0.9 THEN %(o_contact)s
                                                       ELSE %(o_other)s END,
                   %(start)s::date + floor({h('p.id', 'd')} * %(span)s)::int
            FROM bench_people p WHERE NOT p.key AND {h('p.id', 'v')} < {OTHER_VISIT_SHARE}"""]
        for number, (code, day, lead) in enumerate(festivals(rules.values(), start, today), 5):
            drawn.append(f"""
            SELECT p.id, p.org_unit_id, p.key, {number}, %(o_{code})s,
                   %(f_{number})s::date - floor({h('p.id', 'f' + str(number))} * {lead + 1})::int
            FROM bench_people p WHERE p.key AND {h('p.id', 'F' + str(number))} < {FESTIVAL_VISIT_SHARE}""")
            params[f"f_{number}"] = day
        festival = "(occasion_id IN (%(o_spring_festival)s, %(o_army_day)s, %(o_mid_autumn)s))"
        union = "\n            UNION ALL".join(drawn)
        sql = f"""
            INSERT INTO {visits} (veteran_id, org_unit_id, occasion_id, mode, date, visitors, content, needs,
                                  help_given, money, goods, follow_up, created_at)
            SELECT id, org_unit_id, occasion_id,
                   CASE WHEN {festival} OR r_mode < 0.6 THEN 'home' WHEN r_mode < 0.9 THEN 'phone' ELSE 'station' END,
                   day,
                   {pick('id', 'w', ["'王红梅、村服务站专干 " + TAG + "'", "'李建国、社区书记 " + TAG + "'",
                                     "'张敏、街道服务站站长 " + TAG + "'"])},
                   CASE WHEN {festival} THEN '送去节日慰问品，听取意见建议。'
                        ELSE {pick('id * 8 + q', 'c', ["'了解身体和生活情况，宣传优待政策。'",
                                                       "'核对信息采集内容，更新联系电话。'"])} END,
                   CASE WHEN r_money < 0.05 THEN '希望协调就医绿色通道。' ELSE '' END, '',
                   CASE WHEN {festival} AND r_money < 0.6 THEN 1000
                        WHEN NOT {festival} AND r_money < 0.1 THEN 200 END,
                   CASE WHEN {festival} AND r_money < 0.8 THEN '米、油' ELSE '' END, '',
                   (day + time '10:00') AT TIME ZONE %(tz)s
            FROM (
                SELECT *, {h('id * 8 + q', 'm')} AS r_mode, {h('id * 8 + q', '$')} AS r_money
                FROM ({union}) AS slots
                WHERE day >= %(start)s AND day < %(today)s
            ) AS drawn
            ORDER BY id, day  -- person order: the foreign-key checks walk the index in order"""
        run("visits", [(sql, params)])
    else:
        log("seed visits: present, none added")

    # --- must-visit life events, most answered by a visit within a few days -------------------------------
    if not LifeEvent.objects.filter(date__gte=start, description__contains=TAG).exists():
        draw = h("id", "le")
        statements = [
            ("DROP TABLE IF EXISTS bench_events", None),
            (f"""CREATE TEMP TABLE bench_events AS
                 SELECT {seq.format(table=events)} AS id, id AS veteran_id, org_unit_id,
                        CASE WHEN {h('id', 'lk')} < 0.5 THEN %(o_hospitalised)s WHEN {h('id', 'lk')} < 0.75
                             THEN %(o_hardship)s WHEN {h('id', 'lk')} < 0.9 THEN %(o_family_change)s
                             WHEN {h('id', 'lk')} < 0.95 THEN %(o_dispute)s ELSE %(o_disaster)s END AS occasion_id,
                        %(start)s::date + floor({h('id', 'ld')} * %(span)s)::int AS date,
                        CASE WHEN {h('id', 'la')} < {LIFE_EVENT_ANSWERED}
                             THEN floor({h('id', 'lw')} * 6)::int END AS answer_after,
                        NULL::bigint AS visit_id
                 FROM bench_people WHERE {draw} < {LIFE_EVENT_SHARE}""", params),
            ("UPDATE bench_events SET answer_after = NULL WHERE date + answer_after >= %(today)s", params),
            (f"UPDATE bench_events SET visit_id = {seq.format(table=visits)} WHERE answer_after IS NOT NULL", None),
            (f"""INSERT INTO {events} (id, veteran_id, org_unit_id, occasion_id, date, description, created_at)
                 SELECT id, veteran_id, org_unit_id, occasion_id, date, '服务站获悉后登记 {TAG}',
                        (date + time '16:00') AT TIME ZONE %(tz)s FROM bench_events ORDER BY id""", params),
            (f"""INSERT INTO {visits} (id, veteran_id, org_unit_id, occasion_id, life_event_id, mode, date, visitors,
                                      content, needs, help_given, money, goods, follow_up, created_at)
                 SELECT visit_id, veteran_id, org_unit_id, %(o_must_visit)s, id, 'home', date + answer_after,
                        '村服务站专干 {TAG}', '了解情况，送去慰问。', '', '协调就医或临时救助',
                        CASE WHEN {h('id', 'lm')} < 0.5 THEN 500 END, '', '',
                        (date + answer_after + time '15:00') AT TIME ZONE %(tz)s
                 FROM bench_events WHERE visit_id IS NOT NULL ORDER BY visit_id""", params),
        ]
        if must_rule is not None:
            statements.append(_event_tasks_sql(tasks, "bench_events", must_rule, params))
        run("life_events", statements)
    else:
        log("seed life events: present, none added")

    # --- merit notices to active-duty families, most delivered (a delivery visit) --------------------------
    if not MeritNotice.objects.filter(notice_date__gte=start, note__contains=TAG).exists():
        statements = [
            ("DROP TABLE IF EXISTS bench_merit", None),
            (f"""CREATE TEMP TABLE bench_merit AS
                 SELECT {seq.format(table=events)} AS id, p.id AS veteran_id, p.org_unit_id,
                        %(o_merit_notice)s AS occasion_id, m.name AS member_name,
                        CASE WHEN {h('p.id', 'ma')} < 0.01 THEN 'bayi_medal' WHEN {h('p.id', 'ma')} < 0.03
                             THEN 'honorary_title' WHEN {h('p.id', 'ma')} < 0.10 THEN 'first_class'
                             WHEN {h('p.id', 'ma')} < 0.30 THEN 'second_class' ELSE 'third_class' END AS award,
                        %(start)s::date + floor({h('p.id', 'md')} * %(span)s)::int AS date,
                        CASE WHEN {h('p.id', 'mo')} < {MERIT_DELIVERED}
                             THEN 1 + floor({h('p.id', 'mw')} * 10)::int END AS answer_after,
                        NULL::bigint AS visit_id
                 FROM bench_people p
                 JOIN LATERAL (SELECT f.name FROM registry_familymember f WHERE f.veteran_id = p.id
                               AND f.is_active_duty ORDER BY f.id LIMIT 1) m ON true
                 WHERE {h('p.id', 'mn')} < {MERIT_SHARE}""", params),
            ("UPDATE bench_merit SET answer_after = NULL WHERE date + answer_after >= %(today)s", params),
            (f"UPDATE bench_merit SET visit_id = {seq.format(table=visits)} WHERE answer_after IS NOT NULL", None),
            (f"""INSERT INTO {events} (id, veteran_id, org_unit_id, occasion_id, date, description, created_at)
                 SELECT id, veteran_id, org_unit_id, occasion_id, date, '部队寄来立功喜报 {TAG}',
                        (date + time '09:00') AT TIME ZONE %(tz)s FROM bench_merit ORDER BY id""", params),
            (f"""INSERT INTO {visits} (id, veteran_id, org_unit_id, occasion_id, life_event_id, mode, date, visitors,
                                      content, needs, help_given, goods, follow_up, created_at)
                 SELECT visit_id, veteran_id, org_unit_id, %(o_merit_delivery)s, id, 'home', date + answer_after,
                        '街道服务站、区人武部 {TAG}', '送达立功喜报。', '', '', '喜报、慰问品', '',
                        (date + answer_after + time '10:00') AT TIME ZONE %(tz)s
                 FROM bench_merit WHERE visit_id IS NOT NULL ORDER BY visit_id""", params),
            (f"""INSERT INTO {MeritNotice._meta.db_table} (veteran_id, org_unit_id, member_name, award, notice_date,
                        delivered_on, deliverers, signature, note, life_event_id, visit_id, created_at, delivered_at)
                 SELECT veteran_id, org_unit_id, member_name, award, date, date + answer_after,
                        CASE WHEN visit_id IS NULL THEN '' ELSE '街道服务站、区人武部' END,
                        CASE WHEN visit_id IS NULL THEN '' ELSE 'honors/notices/{TAG}.jpg' END,
                        '部队寄来立功喜报 {TAG}', id, visit_id, (date + time '09:00') AT TIME ZONE %(tz)s,
                        (date + answer_after + time '18:00') AT TIME ZONE %(tz)s
                 FROM bench_merit ORDER BY id""", params),
        ]
        if merit_rule is not None:
            statements.append(_event_tasks_sql(tasks, "bench_merit", merit_rule, params))
        run("merit_notices", statements)
    else:
        log("seed merit notices: present, none added")

    # --- plaques: hung over the years, this year's around 春节 and 八一, some replaced -----------------------
    if not PlaqueRecord.objects.filter(people__contains=TAG).exists():
        spring = date(start.year + (start.month > 2), 2, 5)
        army = date(start.year + (start.month > 7), 7, 22)
        kind = (f"CASE WHEN {h('id', 'pk')} < 0.8 THEN 'glory_home' WHEN {h('id', 'pk')} < 0.9 "
                f"THEN 'military_family' WHEN {h('id', 'pk')} < 0.95 THEN 'veteran' ELSE 'martyr_family' END")
        sql = f"""
            INSERT INTO {PlaqueRecord._meta.db_table} (veteran_id, org_unit_id, action, kind, date, people, signature,
                                                      note, created_at)
            SELECT id, org_unit_id, action, kind, day, '村服务站专干、户主 {TAG}', 'honors/plaques/{TAG}.jpg',
                   CASE WHEN action = 'replace' THEN '旧牌褪色，更换新牌' ELSE '' END,
                   (day + time '11:00') AT TIME ZONE %(tz)s
            FROM (
                SELECT id, org_unit_id, 'hang' AS action, {kind} AS kind,
                       CASE WHEN {h('id', 'py')} >= {PLAQUE_THIS_YEAR}
                            THEN DATE '2019-01-01' + floor({h('id', 'pd')} * (%(start)s::date - DATE '2019-01-01'))::int
                            WHEN {h('id', 'ps')} < 0.5 AND %(spring)s::date < %(today)s
                            THEN %(spring)s::date + floor({h('id', 'pd')} * 12)::int
                            ELSE LEAST(%(army)s::date + floor({h('id', 'pd')} * 12)::int, %(today)s::date - 1) END AS day
                FROM bench_people WHERE {h('id', 'p')} < {PLAQUE_SHARE}
                UNION ALL
                SELECT id, org_unit_id, 'replace', {kind},
                       %(start)s::date + floor({h('id', 'rd')} * %(span)s)::int
                FROM bench_people WHERE {h('id', 'p')} < {PLAQUE_SHARE} AND {h('id', 'py')} >= {PLAQUE_THIS_YEAR}
                  AND {h('id', 'pr')} < {PLAQUE_REPLACED}
            ) AS drawn ORDER BY id, day"""
        run("plaques", [(sql, {**params, "spring": spring, "army": army})])
    else:
        log("seed plaques: present, none added")

    # --- transfers: within the district and into it (the record stays), out of it (records moved out) ------
    if not Transfer.objects.filter(date__gte=start, reason__contains=TAG).exists():
        n = len(villages)
        # Another village than the person's own: a step of 1 … n-1 from it, round the list.
        other_village = (f"(%(villages)s::bigint[])[1 + (floor({h('id', 'tv')} * {n - 1})::int + "
                         f"array_position(%(villages)s::bigint[], org_unit_id)) %% {n}]")
        day = f"%(start)s::date + floor({h('id', 'td')} * %(span)s)::int"
        sql = f"""
            INSERT INTO {Transfer._meta.db_table} (veteran_id, direction, from_unit_id, to_unit_id, destination, date,
                                                  reason, created_at)
            SELECT id, 'within', {other_village}, org_unit_id, '', {day}, '户籍迁移 {TAG}', now()
            FROM bench_people WHERE {h('id', 't')} < {TRANSFER_WITHIN} AND org_unit_id = ANY(%(villages)s)
            UNION ALL
            SELECT id, 'in', NULL, org_unit_id, '', {day}, '外区迁入 {TAG}', now()
            FROM bench_people WHERE {h('id', 't')} >= {TRANSFER_WITHIN}
              AND {h('id', 't')} < {TRANSFER_WITHIN + TRANSFER_IN}
            UNION ALL
            SELECT id, 'out', org_unit_id, NULL, '外省市', {day}, '迁出本区 {TAG}', now()
            FROM registry_veteran WHERE status = 'moved_out' AND {h('id', 't')} < {TRANSFER_OUT_OF_MOVED}"""
        run("transfers", [(sql, {**params, "villages": villages})])
    else:
        log("seed transfers: present, none added")

    # --- preferential cards applied for this year by people without one; most issued since -----------------
    if not CardEvent.objects.filter(date__gte=start, note__contains=TAG).exists():
        cards = PreferentialCard._meta.db_table
        statements = [
            ("DROP TABLE IF EXISTS bench_cards", None),
            (f"""CREATE TEMP TABLE bench_cards AS
                 SELECT {seq.format(table=cards)} AS id, p.id AS veteran_id,
                        %(start)s::date + floor({h('p.id', 'ca')} * %(span)s)::int AS applied,
                        30 + floor({h('p.id', 'ci')} * 60)::int AS after, {h('p.id', 'cs')} AS r
                 FROM bench_people p
                 WHERE {h('p.id', 'c')} < {NEW_CARD_SHARE}
                   AND NOT EXISTS (SELECT 1 FROM {cards} c WHERE c.veteran_id = p.id)""", params),
            (f"""INSERT INTO {cards} (id, veteran_id, card_type, number, status, issued_on)
                 SELECT id, veteran_id, 'veteran',
                        CASE WHEN issued THEN '320113' || to_char(applied, 'YY') || lpad(id::text, 8, '0') ELSE '' END,
                        CASE WHEN issued THEN 'issued' WHEN r < 0.9 THEN 'approved' ELSE 'applied' END,
                        CASE WHEN issued THEN applied + after END
                 FROM (SELECT *, applied + after < %(today)s AND r < 0.8 AS issued FROM bench_cards) c
                 ORDER BY id""", params),
            (f"""INSERT INTO {CardEvent._meta.db_table} (card_id, kind, date, note, created_at)
                 SELECT id, 'apply', applied, '服务站受理 {TAG}', now() FROM bench_cards
                 UNION ALL
                 SELECT id, 'issue', applied + after, '服务站发放 {TAG}', now() FROM bench_cards
                 WHERE applied + after < %(today)s AND r < 0.8""", params),
        ]
        run("cards", statements)
    else:
        log("seed cards: present, none added")

    # --- the year's tasks of the interval rules: done by the period's visit, else open and escalated --------
    periods = []
    if quarterly is not None:
        periods += [(quarterly, qs, quarter_end(qs)) for qs in quarter_starts(start, today)]
    for rule in yearly:
        if date(today.year, 1, 1) >= start:
            periods.append((rule, date(today.year, 1, 1), date(today.year, 12, 31)))
    if periods and not DueVisit.objects.filter(rule=periods[0][0], period_key=f"I{periods[0][1]:%Y-%m}").exists():
        statements = []
        for rule, opens, due in periods:
            who = "p.key" if rule.key_recipients_only else "true"
            home = "AND v.mode = 'home'" if rule.home_visit_required else ""
            # A few missed tasks of past periods were cancelled by the station (no visit possible).
            cancelled = f"(%(due)s < %(today)s AND {h('p.id', 'x' + str(rule.pk))} < 0.05)"
            statements.append((f"""
                INSERT INTO {tasks} (rule_id, veteran_id, org_unit_id, occasion_id, period_key, opens_on, due_date,
                                     status, level, notified_on, escalated_on, visit_id, closed_at, completed_on,
                                     cancel_reason, created_at)
                SELECT %(rule)s, p.id, p.org_unit_id, %(occasion)s, %(key)s, %(opens)s, %(due)s,
                       CASE WHEN v.id IS NOT NULL THEN 'done' WHEN {cancelled} THEN 'cancelled' ELSE 'open' END,
                       CASE WHEN v.id IS NOT NULL OR %(due)s >= %(today)s OR {cancelled} THEN 0
                            WHEN %(today)s - %(due)s > %(bureau)s THEN 2 WHEN %(today)s - %(due)s > %(street)s THEN 1
                            ELSE 0 END,
                       %(opens)s,
                       CASE WHEN v.id IS NOT NULL OR {cancelled} THEN NULL
                            WHEN %(today)s - %(due)s > %(bureau)s THEN %(due)s::date + %(bureau)s + 1
                            WHEN %(today)s - %(due)s > %(street)s THEN %(due)s::date + %(street)s + 1
                       END,
                       v.id, CASE WHEN v.id IS NOT NULL THEN (v.date + time '18:00') AT TIME ZONE %(tz)s END, v.date,
                       CASE WHEN v.id IS NULL AND {cancelled} THEN '本人长期外出，无法联系' ELSE '' END,
                       (%(opens)s::date + time '02:00') AT TIME ZONE %(tz)s
                FROM bench_people p
                LEFT JOIN (SELECT DISTINCT ON (veteran_id) veteran_id, id, date FROM {visits} v
                           WHERE occasion_id = %(occasion)s AND date BETWEEN %(opens)s AND %(due)s {home}
                           ORDER BY veteran_id, date, id) v ON v.veteran_id = p.id
                WHERE {who}
                ON CONFLICT (veteran_id, rule_id, period_key) DO NOTHING""",
                {**params, "rule": rule.pk, "occasion": rule.occasion_id, "key": f"I{opens:%Y-%m}", "opens": opens,
                 "due": due, "bureau": rule.escalate_bureau_days, "street": rule.escalate_street_days}))
        run("tasks", statements)
    else:
        log("seed tasks: present, none added")

    started = time.monotonic()
    tables = [visits, Visit.pgh_event_model._meta.db_table, events, LifeEvent.pgh_event_model._meta.db_table, tasks, MeritNotice._meta.db_table,
              PlaqueRecord._meta.db_table, Transfer._meta.db_table, PreferentialCard._meta.db_table,
              CardEvent._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s)", [tables])
        existing = [row[0] for row in cursor.fetchall()]
        for table in existing:
            cursor.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum_analyze"] = (len(existing), time.monotonic() - started)
    log(f"seed: vacuum analyze {len(existing)} tables in {time.monotonic() - started:.1f} s")
    return timings


def _event_tasks_sql(tasks: str, source: str, rule, params: dict) -> tuple[str, dict]:
    """The after-event rule's task for each event of ``source`` (a temp table): done by its answering visit
    (late when after the rule's days), else open — escalated when overdue long enough."""
    days = rule.due_within_days or 3
    return (f"""
        INSERT INTO {tasks} (rule_id, veteran_id, org_unit_id, occasion_id, life_event_id, period_key, opens_on,
                             due_date, status, level, notified_on, escalated_on, visit_id, closed_at, completed_on,
                             cancel_reason, created_at)
        SELECT %(rule)s, veteran_id, org_unit_id, %(occasion)s, id, 'E' || id, date, date + %(days)s,
               CASE WHEN visit_id IS NOT NULL THEN 'done' ELSE 'open' END,
               CASE WHEN visit_id IS NOT NULL THEN 0 WHEN %(today)s - (date + %(days)s) > %(bureau)s THEN 2
                    WHEN %(today)s - (date + %(days)s) > %(street)s THEN 1 ELSE 0 END,
               date,
               CASE WHEN visit_id IS NULL AND %(today)s - (date + %(days)s) > %(bureau)s THEN date + %(days)s + %(bureau)s + 1
                    WHEN visit_id IS NULL AND %(today)s - (date + %(days)s) > %(street)s THEN date + %(days)s + %(street)s + 1
               END,
               visit_id,
               CASE WHEN visit_id IS NOT NULL THEN (date + answer_after + time '18:00') AT TIME ZONE %(tz)s END,
               CASE WHEN visit_id IS NOT NULL THEN date + answer_after END,
               '', (date + time '20:00') AT TIME ZONE %(tz)s
        FROM {source}
        ON CONFLICT (veteran_id, rule_id, period_key) DO NOTHING""",
            {**params, "rule": rule.pk, "occasion": rule.occasion_id, "days": days,
             "bureau": rule.escalate_bureau_days, "street": rule.escalate_street_days})
