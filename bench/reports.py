#!/usr/bin/env python
# ruff: noqa: S608 — the reference SQL is constant text; values are parameters
"""Reports benchmark: ``python bench/reports.py --veterans N [--only seed,figures,dashboard,home,forms,pdf]``.

On N demo veterans (default 100000; issue 12 asks for 1,000,000) with a year of visits and tasks
(``bench/seed_care.py``, seeded here when missing), prints one JSON line per figure on stdout —
``{"name", "value", "unit", "reference", "ratio", "target"}``: ``reference`` is measured in the same run (the same
counts by a plain ``COUNT … GROUP BY org_unit_id``, no cache, no sum up the tree), ``ratio = value / reference``,
and ``target`` is issue 12's limit where it sets one. Progress goes to stderr.

- ``figures``: every registered figure's count-and-keep (``figures.refresh``) for the running quarter, and the sum;
- ``dashboard``: the leadership dashboard as a leader, first load cold (snapshots kept in the database, the
  process cache and the kept page bodies cleared) ≤ 300 ms, warm ≤ 30 ms, a drill-down step (district → biggest street → its biggest
  village) ≤ 100 ms;
- ``home``: a station's home page (the biggest village, the biggest street) ≤ 50 ms;
- ``forms``: each shipped report form for the district (the ``build_report`` path) ≤ 5 s;
- ``pdf``: the district's monthly PDF in a child process ≤ 60 s, peak memory ≤ 500 MB.
A part whose code is not there yet says "skipped: not built yet" on stderr and prints nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402 — bench/run.py is the registry benchmark, its helpers are shared
    bench_user,
    client_for,
    describe_machine,
    ensure_veterans,
    log,
    peak_mb,
    setup_django,
    street_counts,
    timed_get,
)

DASHBOARD_COLD_MS = 300.0
DASHBOARD_WARM_MS = 30.0
DRILL_MS = 100.0
HOME_MS = 50.0
FORM_S = 5.0
PDF_S = 60.0
PDF_PEAK_MB = 500.0
PARTS = ("seed", "figures", "dashboard", "home", "forms", "pdf")


def emit(name: str, value: float, unit: str, reference: float | None, target: float | None = None) -> None:
    """One figure, one JSON line on stdout (bench/run.py's line, plus the issue's target when it sets one)."""
    line = {"name": name, "value": round(value, 3), "unit": unit,
            "reference": None if reference is None else round(reference, 3),
            "ratio": round(value / reference, 3) if reference else None}
    if target is not None:
        line["target"] = target
    print(json.dumps(line, ensure_ascii=False), flush=True)


def skipped(part: str, why: str = "not built yet") -> None:
    log(f"{part}: skipped: {why}")


# --- the reference: the same counts by a plain GROUP BY ---------------------------------------------------

# Per planned figure key, the plain SQL of its rows at the finest unit: what a page would run without the
# figure store (no kept snapshot, no process cache, no sum up the unit tree). Parameters: %(start)s, %(end)s
# (the period's days, inclusive), %(as_at)s (a standing count's day) and %(key_codes)s (key care categories).
ACTIVE = "v.status = 'active'"
REFERENCE_SQL = {
    "registry.veterans": f"SELECT v.org_unit_id, count(*) FROM registry_veteran v WHERE {ACTIVE} GROUP BY 1",
    "registry.by_category": f"""
        SELECT v.org_unit_id, c.code, count(DISTINCT v.id) FROM registry_veteran v
        JOIN registry_veteran_categories vc ON vc.veteran_id = v.id JOIN registry_code c ON c.id = vc.code_id
        WHERE {ACTIVE} GROUP BY 1, 2""",
    "registry.by_care_category": f"""
        SELECT v.org_unit_id, c.code, count(DISTINCT v.id) FROM registry_veteran v
        JOIN registry_careentitlement ce ON ce.veteran_id = v.id JOIN registry_code c ON c.id = ce.category_id
        WHERE {ACTIVE} GROUP BY 1, 2""",
    "registry.by_age_band": f"""
        SELECT v.org_unit_id, LEAST(8, GREATEST(2, extract(year from age(%(as_at)s, v.birth_date))::int / 10)), count(*)
        FROM registry_veteran v WHERE {ACTIVE} GROUP BY 1, 2""",
    "registry.by_sex": f"SELECT v.org_unit_id, v.sex, count(*) FROM registry_veteran v WHERE {ACTIVE} GROUP BY 1, 2",
    "registry.new_records": """
        SELECT v.org_unit_id, count(*) FROM registry_veteran v
        WHERE (v.created_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "registry.transfers_in": """
        SELECT t.to_unit_id, count(*) FROM registry_transfer t
        WHERE t.direction IN ('in', 'within') AND t.date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "registry.transfers_out": """
        SELECT t.from_unit_id, count(*) FROM registry_transfer t
        WHERE t.direction IN ('out', 'within') AND t.date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "registry.cards_applied": """
        SELECT v.org_unit_id, count(*) FROM registry_cardevent e JOIN registry_preferentialcard c ON c.id = e.card_id
        JOIN registry_veteran v ON v.id = c.veteran_id
        WHERE e.kind = 'apply' AND e.date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "registry.cards_issued": """
        SELECT v.org_unit_id, count(*) FROM registry_cardevent e JOIN registry_preferentialcard c ON c.id = e.card_id
        JOIN registry_veteran v ON v.id = c.veteran_id
        WHERE e.kind = 'issue' AND e.date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "registry.completeness": f"""
        SELECT v.org_unit_id, count(*) FILTER (WHERE v.phone <> '' AND v.hukou_address <> '' AND v.address <> ''
                                               AND v.enlist_date IS NOT NULL AND v.discharge_date IS NOT NULL),
               count(*)
        FROM registry_veteran v WHERE {ACTIVE} GROUP BY 1""",
    "registry.last_update": "SELECT v.org_unit_id, max(v.updated_at) FROM registry_veteran v GROUP BY 1",
    "care.visits_done": """
        SELECT org_unit_id, occasion_id, count(*) FROM care_visit WHERE date BETWEEN %(start)s AND %(end)s
        GROUP BY ROLLUP (1, 2)""",
    "care.tasks_due": """
        SELECT org_unit_id, count(*) FROM care_duevisit WHERE due_date BETWEEN %(start)s AND %(end)s
        AND status <> 'cancelled' GROUP BY 1""",
    "care.tasks_done": """
        SELECT org_unit_id, count(*) FROM care_duevisit WHERE status = 'done'
        AND completed_on BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "care.key_coverage": f"""
        SELECT v.org_unit_id, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM care_visit cv WHERE cv.veteran_id = v.id
                                                             AND cv.date BETWEEN %(start)s AND %(end)s)), count(*)
        FROM registry_veteran v WHERE {ACTIVE} AND EXISTS (SELECT 1 FROM registry_careentitlement ce
              WHERE ce.veteran_id = v.id AND ce.category_id = ANY(%(key_codes)s)) GROUP BY 1""",
    "care.overdue": """
        SELECT org_unit_id, count(*) FROM care_duevisit WHERE status = 'open' AND due_date < %(as_at)s GROUP BY 1""",
    "care.escalated": "SELECT org_unit_id, count(*) FROM care_duevisit WHERE status = 'open' AND level > 0 GROUP BY 1",
    "care.money": """
        SELECT org_unit_id, sum(money) FROM care_visit WHERE date BETWEEN %(start)s AND %(end)s AND money IS NOT NULL
        GROUP BY 1""",
    "care.goods": """
        SELECT org_unit_id, count(*) FROM care_visit WHERE date BETWEEN %(start)s AND %(end)s AND goods <> ''
        GROUP BY 1""",
    "care.life_events_on_time": """
        SELECT org_unit_id, count(*) FILTER (WHERE status = 'done' AND completed_on <= due_date), count(*)
        FROM care_duevisit WHERE life_event_id IS NOT NULL AND due_date BETWEEN %(start)s AND %(end)s
        AND status <> 'cancelled' GROUP BY 1""",
    "honors.plaques_hung": """
        SELECT org_unit_id, count(DISTINCT veteran_id) FROM honors_plaquerecord WHERE date <= %(as_at)s GROUP BY 1""",
    "honors.plaque_coverage": f"""
        SELECT v.org_unit_id, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM honors_plaquerecord p
                                                             WHERE p.veteran_id = v.id AND p.date <= %(as_at)s)),
               count(*)
        FROM registry_veteran v WHERE {ACTIVE} GROUP BY 1""",
    "honors.notices_delivered_on_time": """
        SELECT org_unit_id, count(*) FILTER (WHERE delivered_on <= notice_date + 7), count(*)
        FROM honors_meritnotice WHERE notice_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    "liaison.items_on_time": """
        SELECT p.street_id, count(*) FILTER (WHERE t.status = 'done' AND t.completed_on <= t.due_date), count(*)
        FROM care_liaisontask t JOIN care_liaisonpairing p ON p.id = t.pairing_id
        WHERE t.due_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
}


def reference_params(period) -> dict:
    from apps.registry.models import Code

    return {"start": period.start, "end": period.end, "as_at": period.as_at(),
            "key_codes": list(Code.objects.filter(kind="care_category", is_key_recipient=True)
                              .values_list("pk", flat=True))}


def time_reference(key: str, period, *, repeat: int = 2) -> float | None:
    """Best of ``repeat`` runs of the plain GROUP BY of figure ``key`` (ms, all rows fetched), or None."""
    from django.db import connection

    sql = REFERENCE_SQL.get(key)
    if sql is None:
        return None
    params = reference_params(period)
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()
        elapsed = (time.perf_counter() - started) * 1000
        best = elapsed if best is None else min(best, elapsed)
    return best


def references_for(keys, period) -> tuple[float, list[str]]:
    """The sum of the plain GROUP BYs of these figures (ms), and the keys without one."""
    total, missing = 0.0, []
    for key in keys:
        ms = time_reference(key, period, repeat=1)
        if ms is None:
            missing.append(key)
        else:
            total += ms
    return total, missing


# --- the parts --------------------------------------------------------------------------------------------


def bench_seed() -> None:
    import seed_care

    started = time.monotonic()
    timings = seed_care.seed_year(log=log)
    elapsed = time.monotonic() - started
    added = sum(rows for part, (rows, _s) in timings.items() if part != "vacuum_analyze")
    if added:
        for part, (rows, seconds) in timings.items():
            if part != "vacuum_analyze" and rows:
                emit(f"seed_year_{part}_rows_per_s", rows / max(seconds, 1e-6), "rows/s", None)
        emit("seed_year_of_care_s", elapsed, "s", None)


def bench_figures(period, repeat: int) -> None:
    from apps.core import figures

    registered = figures.all_figures()
    if not registered:
        skipped("figures", "no figure registered yet")
        return
    total_ours, total_ref, without = 0.0, 0.0, []
    for figure in registered:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            snapshot = figures.refresh(figure, period)
            times.append((time.perf_counter() - started) * 1000)
        ours = min(times)
        reference = time_reference(figure.key, period, repeat=repeat)
        log(f"figure {figure.key}: refresh {ours:.0f} ms (compute and sum {snapshot.duration_ms} ms), "
            f"plain GROUP BY {'—' if reference is None else f'{reference:.0f} ms'}")
        emit(f"figure_{figure.key}_refresh_ms", ours, "ms", reference)
        total_ours += ours
        if reference is None:
            without.append(figure.key)
        else:
            total_ref += reference
    if without:
        log(f"figures without a plain GROUP BY reference in the bench (their time is in the sum, not its reference): "
            f"{', '.join(without)}")
    emit("figures_refresh_all_ms", total_ours, "ms", total_ref)
    emit("figures_registered", len(registered), "figures", len(REFERENCE_SQL))


def reverse_or_none(name: str, **kwargs) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, **kwargs)
    except NoReverseMatch:
        return None


def biggest_units():
    """(district, biggest street, that street's biggest village) by active records."""
    from django.db.models import Count

    from apps.core.models import OrgUnit
    from apps.registry.models import Veteran

    district = OrgUnit.objects.get_first_root_node()
    street = street_counts()[0][0]
    village_id = (Veteran.objects.active().filter(org_unit__path__startswith=street.path).values("org_unit")
                  .annotate(n=Count("id")).order_by("-n").values_list("org_unit", flat=True).first())
    return district, street, OrgUnit.objects.get(pk=village_id)


def fresh(periods) -> None:
    """Kept snapshots of every figure for ``periods``, younger than the maximum age (a page then counts nothing)."""
    from apps.core import figures

    started = time.perf_counter()
    figures.ensure(figures.all_figures(), periods)
    log(f"figures kept for {', '.join(p.key for p in periods)} ({time.perf_counter() - started:.1f} s)")


def bench_dashboard(period, repeat: int) -> None:
    from apps.core import figures
    from apps.core.choices import Role
    from apps.core.figures.store import clear_process_cache

    url = reverse_or_none("reports:dashboard")
    if url is None:
        skipped("dashboard")
        return
    district, street, village = biggest_units()
    leader = bench_user("bench_reports_leader", Role.LEADER, district)
    client = client_for(leader)
    fresh([period, period.previous(), period.same_last_year()])
    reference, missing = references_for([f.key for f in figures.all_figures()], period)
    if missing:
        log(f"dashboard reference: no plain GROUP BY for {', '.join(missing)}")

    from django.core.cache import cache

    def cold(params: dict) -> float:
        times = []
        for _ in range(repeat):
            clear_process_cache()
            cache.clear()  # the kept page body too: cold means built from the kept figures
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
        return statistics.median(times)

    client.get(url)  # the session and the templates loaded, as on a running server
    emit("dashboard_cold_ms", cold({}), "ms", reference, DASHBOARD_COLD_MS)
    emit("dashboard_warm_ms", timed_get(client, url, repeat=repeat), "ms", reference, DASHBOARD_WARM_MS)
    for label, unit in (("street", street), ("village", village)):
        params = {"unit": unit.pk}
        emit(f"dashboard_drill_{label}_cold_ms", cold(params), "ms", reference, DRILL_MS)
        emit(f"dashboard_drill_{label}_warm_ms", timed_get(client, url, params, repeat=repeat), "ms", reference,
             DRILL_MS)
    log(f"dashboard: district → {street.name} → {village.name}")


HOME_REFERENCE_SQL = """
    SELECT u.id, count(*) FILTER (WHERE d.status = 'open' AND d.opens_on <= %(today)s),
           count(*) FILTER (WHERE d.status = 'open' AND d.opens_on <= %(today)s AND d.due_date < %(today)s),
           count(*) FILTER (WHERE d.status = 'open' AND d.due_date BETWEEN %(today)s AND %(today)s + 6),
           count(*) FILTER (WHERE d.status = 'open' AND d.level > 0),
           count(*) FILTER (WHERE d.status = 'done' AND d.due_date BETWEEN %(start)s AND %(end)s),
           count(*) FILTER (WHERE d.due_date BETWEEN %(start)s AND %(end)s)
    FROM care_duevisit d JOIN core_orgunit u ON u.id = d.org_unit_id
    WHERE d.org_unit_id = ANY(%(units)s) GROUP BY u.id"""  # the station's numbers and its villages' rows, plain SQL


def station_home_built(user) -> bool:
    """Whether an app registered a home page for this user (``apps.core.home``); else core's old summary."""
    try:
        from apps.core.home import providers_for
    except ImportError:
        return False
    return bool(providers_for(user))


def bench_home(repeat: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from apps.core.choices import Role
    from apps.core.figures import QUARTER, Period
    from apps.core.models import OrgUnit

    url = reverse_or_none("core:home") or reverse_or_none("home")
    if url is None:
        skipped("home")
        return
    _district, street, village = biggest_units()
    for label, unit, role in (("village", village, Role.VILLAGE_STATION), ("street", street, Role.STREET_STATION)):
        user = bench_user(f"bench_reports_{label}", role, unit)
        client = client_for(user)
        if not station_home_built(user):
            skipped("home")
            return
        started = time.perf_counter()
        with connection.cursor() as cursor:
            today = timezone.localdate()
            quarter = Period.containing(today, QUARTER)
            units = list(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
            cursor.execute(HOME_REFERENCE_SQL, {"today": today, "units": units, "start": quarter.start,
                                                "end": quarter.end})
            cursor.fetchall()
        reference = (time.perf_counter() - started) * 1000
        emit(f"home_{label}_station_ms", timed_get(client, url, repeat=repeat), "ms", reference, HOME_MS)


def bench_forms() -> None:
    from django.core.management import CommandError, call_command

    from apps.core import figures
    from apps.core.figures import Period

    try:
        from apps.reports.models import ReportForm
    except ImportError:
        skipped("forms")
        return
    forms = list(ReportForm.objects.filter(is_active=True).order_by("code"))
    if not forms:
        skipped("forms", "no report form in the database")
        return
    district, _street, _village = biggest_units()
    out = Path(tempfile.mkdtemp(prefix="bench-forms-"))
    for form in forms:
        form_period = Period.current(form.period_kind)
        keys = sorted({figures.parse_ref(k)[0] for k in _strings(form.bindings) if figures.get(figures.parse_ref(k)[0])})
        fresh([form_period])
        reference, missing = references_for(keys, form_period)
        started = time.perf_counter()
        try:
            with open(os.devnull, "w") as quiet:
                call_command("build_report", form.code, period=form_period.key, unit=district.code,
                             out=str(out / f"{form.code}.xlsx"), stdout=quiet)
        except CommandError as error:  # e.g. bound to a figure no app registers yet
            skipped(f"form {form.code}", str(error)[:300])
            continue
        elapsed = time.perf_counter() - started
        log(f"form {form.code}: {elapsed:.2f} s, figures {', '.join(keys)}"
            + (f" (no reference for {', '.join(missing)})" if missing else ""))
        emit(f"form_{form.code}_district_s", elapsed, "s", reference / 1000 if reference else None, FORM_S)


def _strings(value):
    """Every string inside a JSON value (a form's bindings hold figure references)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def bench_pdf() -> None:
    from apps.core import figures

    try:
        from apps.reports.monthly import last_month
    except ImportError:
        skipped("pdf")
        return
    district, _street, _village = biggest_units()
    period = last_month()
    fresh([period, period.previous(), period.same_last_year()])
    reference, _missing = references_for([f.key for f in figures.all_figures()], period)
    command = [sys.executable, str(Path(__file__).resolve()), "--child-pdf", str(district.pk), period.key]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"monthly PDF child failed:\n{result.stderr[-4000:]}")
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    log(f"monthly pdf {district.name} {period.key}: {outcome['seconds']:.1f} s, {outcome['bytes']:,} bytes, "
        f"peak {outcome['peak_mb']:.0f} MB (baseline {outcome['baseline_mb']:.0f} MB)")
    emit("monthly_pdf_district_s", outcome["seconds"], "s", reference / 1000, PDF_S)
    emit("monthly_pdf_district_peak_mb", outcome["peak_mb"], "MB", outcome["baseline_mb"], PDF_PEAK_MB)


def child_pdf(unit_id: int, period_key: str) -> None:
    """In a fresh interpreter: build the monthly PDF, print its time and this process's peak memory."""
    setup_django()
    from apps.core.figures import Period
    from apps.core.models import OrgUnit
    from apps.reports.monthly import monthly_pdf

    baseline = peak_mb()
    unit = OrgUnit.objects.get(pk=unit_id)
    started = time.perf_counter()
    data, _content = monthly_pdf(unit=unit, period=Period.parse(period_key))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "bytes": len(data), "peak_mb": round(peak_mb(), 1),
                      "baseline_mb": round(baseline, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--veterans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="requests per page figure (median)")
    parser.add_argument("--figure-repeat", type=int, default=2, help="refreshes per figure (best)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"any of {','.join(PARTS)}")
    parser.add_argument("--period", default="", help="the period of the figures part (default: the running quarter)")
    parser.add_argument("--child-pdf", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_pdf:
        child_pdf(int(options.child_pdf[0]), options.child_pdf[1])
        return
    parts = {p.strip() for p in options.only.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    setup_django()
    from apps.core.figures import QUARTER, Period

    describe_machine()
    total = ensure_veterans(options.veterans)
    emit("veterans_in_database", total, "rows", options.veterans)
    period = Period.parse(options.period) if options.period else Period.current(QUARTER)
    runs = {"seed": bench_seed, "figures": lambda: bench_figures(period, options.figure_repeat),
            "dashboard": lambda: bench_dashboard(period, options.repeat), "home": lambda: bench_home(options.repeat),
            "forms": bench_forms, "pdf": bench_pdf}
    for part in PARTS:
        if part in parts:
            # The machine's load beside the figures: on a shared machine they vary with it.
            log(f"{part}: load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
            runs[part]()


if __name__ == "__main__":
    main()
