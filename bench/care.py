#!/usr/bin/env python
"""Care benchmark: ``python bench/care.py --veterans N`` (default 100000; 1000000 works).

Seeds N demo veterans if fewer exist (``bench/run.py``'s seeding), then prints one JSON line per figure on
stdout (``{"name", "value", "unit", "reference", "ratio"}``, ratio = value / reference):
- the nightly reminder job over every record with the default rules, on a fixed busy day (20 January 2027:
  quarterly, yearly, 春节 and birthday rules all open), from no tasks (first run) and again (second run,
  which must create zero tasks); target ≤ 120 s;
- recomputation of one person's due visits (median over many people); target ≤ 50 ms;
- the worklist page of the street with the most open tasks (≥ 50,000 at 1M records), first page and a
  deep page, as that street's station user; target ≤ 80 ms; and its query count against a one-task unit.
Progress goes to stderr. The web requests run with the clock set to the bench day (time-machine).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402 — bench/run.py is the registry benchmark, its helpers are shared
    bench_user,
    client_for,
    count_queries,
    emit,
    ensure_veterans,
    log,
    setup_django,
    timed_get,
)

BENCH_DAY = date(2027, 1, 20)
NIGHTLY_S = 120.0
RECOMPUTE_MS = 50.0
WORKLIST_MS = 80.0


def reset_tasks() -> None:
    from django.db import connection

    from apps.care.models import Campaign, CareRun, DueVisit

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {DueVisit._meta.db_table}, {CareRun._meta.db_table}")
        cursor.execute(f"DELETE FROM {Campaign._meta.db_table}")  # noqa: S608 - a table name from the model


def bench_nightly() -> None:
    from django.db import connection

    from apps.care import services
    from apps.care.models import DueVisit

    reset_tasks()
    for label in ("first", "second"):
        started = time.perf_counter()
        run = services.reminders_run(on=BENCH_DAY)
        elapsed = time.perf_counter() - started
        log(f"nightly {label} run: {elapsed:.1f} s, created {run.created}, cancelled {run.cancelled}, "
            f"escalated {run.escalated}, units reminded {run.notified_units}")
        emit(f"nightly_run_{label}_s", elapsed, "s", NIGHTLY_S)
        emit(f"nightly_run_{label}_tasks_created", run.created, "tasks", 0 if label == "second" else run.created)
        if label == "first":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {DueVisit._meta.db_table}")
    emit("open_tasks_in_district", DueVisit.objects.open().count(), "tasks", 1)


def bench_recompute(samples: int) -> None:
    from apps.care import services
    from apps.registry.models import Veteran

    high = Veteran.objects.order_by("-pk").values_list("pk", flat=True).first()
    rng = random.Random(7)
    ids = [rng.randint(1, high) for _ in range(samples)]
    services.people_recompute(ids=[ids[0]], on=BENCH_DAY)  # warm: rules loaded, plans cached
    times = []
    for pk in ids:
        started = time.perf_counter()
        services.people_recompute(ids=[pk], on=BENCH_DAY)
        times.append((time.perf_counter() - started) * 1000)
    emit("recompute_one_person_median_ms", statistics.median(times), "ms", RECOMPUTE_MS)
    emit("recompute_one_person_p90_ms", statistics.quantiles(times, n=10)[-1], "ms", RECOMPUTE_MS)


def bench_worklist(repeat: int) -> None:
    import time_machine
    from django.db.models import Count
    from django.db.models.functions import Substr
    from django.urls import reverse

    from apps.care.models import DueVisit
    from apps.core.choices import Role
    from apps.core.models import OrgUnit

    width = 2 * OrgUnit.steplen
    per_street = (DueVisit.objects.open().annotate(street=Substr("org_unit__path", 1, width)).values("street")
                  .annotate(n=Count("id")).order_by("-n").values_list("street", "n"))
    path, open_tasks = per_street[0]
    street = OrgUnit.objects.get(path=path)
    log(f"worklist: {street.name} has {open_tasks} open tasks")
    emit("worklist_street_open_tasks", open_tasks, "tasks", 50_000)
    user = bench_user("bench_care_street", Role.STREET_STATION, street)
    url = reverse("care:worklist")
    with time_machine.travel(datetime(BENCH_DAY.year, BENCH_DAY.month, BENCH_DAY.day, 9,
                                      tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        client = client_for(user)  # logged in on the bench day (the idle timeout counts from the login)
        for view in ("open", "week", "overdue", "escalated"):
            emit(f"worklist_{view}_first_page_ms", timed_get(client, url, {"view": view}, repeat=repeat), "ms",
                 WORKLIST_MS)
        deep = deep_page_params(client, url, {"view": "open"}, pages=100)
        if deep:
            emit("worklist_open_page101_ms", timed_get(client, url, deep, repeat=repeat), "ms", WORKLIST_MS)
        occasion = DueVisit.objects.open().filter(org_unit__path__startswith=path).values_list(
            "occasion_id", flat=True).first()
        emit("worklist_open_one_occasion_ms", timed_get(client, url, {"view": "open", "occasion": occasion},
                                                        repeat=repeat), "ms", WORKLIST_MS)
        many = count_queries(client, url, {"view": "open"})
        one_task = DueVisit.objects.open().values("org_unit").annotate(n=Count("id")).order_by("n").first()
        few = count_queries(client, url, {"view": "open", "unit": one_task["org_unit"]})
        emit("worklist_queries_page_vs_small_unit", many, "queries", few)


def deep_page_params(client, url: str, params: dict, pages: int) -> dict | None:
    """Follow the worklist's "next page" link ``pages`` times; the parameters of the page reached."""
    import re
    from urllib.parse import parse_qs

    link = re.compile(r'id="page-next" href="\?([^"]+)"')
    current = dict(params)
    for _ in range(pages):
        body = client.get(url, current).content.decode()
        match = link.search(body)
        if not match:
            log("worklist: no next-page link found; deep page figure skipped")
            return None
        query = match.group(1).replace("&amp;", "&")
        current = {k: v[0] for k, v in parse_qs(query).items()}
    return current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--veterans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--samples", type=int, default=200, help="people recomputed for the median")
    parser.add_argument("--only", default="nightly,recompute,worklist")
    options = parser.parse_args()
    setup_django()
    total = ensure_veterans(options.veterans)
    emit("veterans_in_database", total, "rows", options.veterans)
    parts = {p.strip() for p in options.only.split(",")}
    if "nightly" in parts:
        bench_nightly()
    if "recompute" in parts:
        bench_recompute(options.samples)
    if "worklist" in parts:
        bench_worklist(options.repeat)


if __name__ == "__main__":
    main()
