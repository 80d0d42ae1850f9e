#!/usr/bin/env python
"""Registry benchmark: ``python bench/run.py --veterans N`` (default 100000; 1000000 works).

Seeds N demo veterans (``seed_demo``'s registry seeder) if fewer exist, then prints one JSON line per
figure on stdout — ``{"name", "value", "unit", "reference", "ratio"}`` with ``ratio = value / reference``;
the reference is the target (50 ms, 30 ms, 1 s…) or a reference implementation measured in the same run.
Progress and details go to stderr, so ``bench/run.py … > figures.jsonl`` keeps only the figures.

Pages and the API are timed in-process with ``django.test.Client`` against the real views (URL
resolution, middleware, session, templates or serializers included; no network): the median over
repeated requests, logged in as a street-station user of the biggest street and as bureau staff.
Export and import run in child processes so that their peak memory (``ru_maxrss``) is their own.

Settings: ``DJANGO_SETTINGS_MODULE`` (default ``veterans_portal.settings.local``) and ``DATABASE_URL``
are respected; ``DEBUG`` defaults to off so that queries are not logged, as in production.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import os
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGE_MS = 50.0  # list pages and API lists, any page
SEARCH_MS = 30.0
PERSON_MS = 30.0
PDF_S = 1.0
EXPORT_VS_IMPORT_EXPORT = 1 / 5  # at least 5× faster than django-import-export's default ModelResource
EXPORT_VS_XLSXWRITER = 1.5  # within 1.5× of XlsxWriter (constant_memory) writing the same cells alone
EXPORT_PEAK_MB = 200.0
IMPORT_VS_IMPORT_EXPORT = 1 / 10  # at least 10× faster
IMPORT_PEAK_MB = 500.0
DEEP_PAGES = 200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit(name: str, value: float, unit: str, reference: float) -> None:
    """One figure, one JSON line on stdout."""
    line = {"name": name, "value": round(value, 3), "unit": unit, "reference": round(reference, 3),
            "ratio": round(value / reference, 3) if reference else None}
    print(json.dumps(line, ensure_ascii=False), flush=True)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veterans_portal.settings.local")
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def peak_mb() -> float:
    """Peak resident memory of this process. VmHWM, not ``ru_maxrss``: Linux carries ru_maxrss across
    exec, so a child would report its parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- data and users ------------------------------------------------------------------------------


def describe_machine() -> None:
    """What the figures were measured on (stderr): figures from machines of one kind differ two- or threefold
    (seen here: seeding a million veterans took 717 s on one and 226 s on another)."""
    from django.db import connection

    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    loop = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('shared_buffers'), "
                       "current_setting('random_page_cost'), current_setting('work_mem')")
        version, buffers, page_cost, work_mem = cursor.fetchone()
    log(f"machine: {os.cpu_count()} cores; Python loop of 10M additions {loop:.2f} s; PostgreSQL {version} "
        f"(shared_buffers {buffers}, random_page_cost {page_cost}, work_mem {work_mem})")


def ensure_schema() -> None:
    """Migrate first when the database is empty or behind, so a freshly created database can be benched."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        log(f"schema: {len(pending)} migrations to apply, migrating …")
        call_command("migrate", interactive=False, verbosity=0)


def ensure_veterans(n: int) -> int:
    from django.core.management import call_command

    from apps.registry.models import Veteran

    ensure_schema()
    present = Veteran.objects.count()
    if present < n:
        log(f"seeding: {present} veterans present, seeding up to {n} …")
        started = time.monotonic()
        call_command("seed_demo", veterans=n, stdout=sys.stderr)
        added = Veteran.objects.count() - present
        elapsed = time.monotonic() - started
        log(f"seeding: {added} veterans in {elapsed:.0f} s ({added / elapsed:,.0f}/s)")
        emit(f"seed_{added}_veterans_s", elapsed, "s", 600 * added / 1_000_000)  # reference: 10 min per million
    vacuum_if_needed(force=present < n)
    return Veteran.objects.count()


def vacuumed_tables() -> list[str]:
    """The tables a bulk load fills (names from the models)."""
    from apps.core.models import AccessLog, OrgUnit
    from apps.registry.models import CardEvent, CareEntitlement, Code, FamilyMember, PreferentialCard, Veteran

    models = (Veteran, Veteran.categories.through, Veteran.tags.through, FamilyMember, CareEntitlement,
              PreferentialCard, CardEvent, Veteran.pgh_event_model, OrgUnit, Code, AccessLog)
    return [model._meta.db_table for model in models]


def vacuum_if_needed(*, force: bool = False) -> None:
    """Do what autovacuum does (it may be off on a shared server): after a bulk load or the import bench's
    rolled-back writes, set the visibility map (index-only scans), drop dead rows and refresh statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_live_tup, n_dead_tup, last_analyze, last_autoanalyze FROM pg_stat_user_tables "
                       "WHERE relname = ANY(%s)", [vacuumed_tables()])
        stale = [name for name, live, dead, analyzed, auto in cursor.fetchall()
                 if force or dead > 0.1 * max(live, 1000) or (analyzed is None and auto is None)]
        started = time.monotonic()
        for table in stale:
            cursor.execute(f"VACUUM ANALYZE {table}")
    if stale:
        log(f"vacuum analyze {', '.join(stale)}: {time.monotonic() - started:.0f} s")


def street_counts() -> list[tuple[object, int]]:
    """(street, active records in its subtree), biggest first."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from apps.core.models import OrgUnit
    from apps.registry.models import Veteran

    width = 2 * OrgUnit.steplen
    counts = dict(Veteran.objects.active().annotate(street=Substr("org_unit__path", 1, width)).values("street")
                  .annotate(n=Count("id")).values_list("street", "n"))
    streets = OrgUnit.objects.filter(depth=2, path__in=list(counts))
    return sorted(((s, counts[s.path]) for s in streets), key=lambda pair: -pair[1])


def bench_user(username: str, role: str, unit):
    """A user of the given role and unit, created once (random password: the bench logs in directly)."""
    from apps.core.models import User
    from apps.core.services import user_create

    user = User.objects.filter(username=username).first()
    if user is None or user.org_unit_id != unit.pk:
        if user is not None:
            user.delete()
        user = user_create(actor=None, username=username, password=secrets.token_urlsafe(16) + "aA1#",
                           real_name=username, org_unit=unit, roles=[role])
    return User.objects.get(pk=user.pk)


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- timing helpers ------------------------------------------------------------------------------


def timed_get(client, url: str, params: dict | None = None, *, repeat: int, warmup: int = 4, **headers) -> float:
    """Median milliseconds of ``repeat`` GETs (after ``warmup``), each answered 200."""
    times = []
    for i in range(warmup + repeat):
        started = time.perf_counter()
        response = client.get(url, params or {}, **headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
        if i >= warmup:
            times.append(elapsed)
    return statistics.median(times)


def count_queries(client, url: str, params: dict | None = None, **headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


NEXT_LINK = re.compile(r'id="page-next" href="\?([^"]+)"')


def page_next_params(content: bytes) -> dict | None:
    match = NEXT_LINK.search(content.decode())
    if not match:
        return None
    return {k: v[-1] for k, v in parse_qs(html.unescape(match.group(1)), keep_blank_values=True).items() if v[-1]}


def walk_pages(client, url: str, params: dict, pages: int) -> tuple[dict, int]:
    """Follow the list page's "next" link ``pages`` times (htmx partial); the params of the page reached."""
    current, reached = dict(params), 0
    for _ in range(pages):
        response = client.get(url, current, HTTP_HX_REQUEST="true")
        following = page_next_params(response.content)
        if not following:
            break
        current, reached = following, reached + 1
    return current, reached


def walk_api(client, url: str, params: dict, pages: int) -> tuple[str, int]:
    response = client.get(url, params)
    link, reached = response.json()["next"], 0
    for _ in range(pages - 1):
        if not link:
            break
        following = client.get(link).json()["next"]
        if not following:
            break
        link, reached = following, reached + 1
    return link or url, reached + 1


# --- pages, search, person, API ------------------------------------------------------------------


def bench_pages(*, street_user, bureau_user, street, repeat: int) -> None:
    from django.urls import reverse

    from apps.registry.models import Code, Veteran

    url = reverse("registry:veteran_list")
    category = Code.objects.get(kind="category", name="退役士兵")
    for who, user in (("street", street_user), ("bureau", bureau_user)):
        client = client_for(user)
        for ordering in ("name", "-id"):
            params = {"unit": street.pk, "category": category.pk, "ordering": ordering}
            first = timed_get(client, url, params, repeat=repeat)
            deep_params, reached = walk_pages(client, url, params, DEEP_PAGES)
            deep = timed_get(client, url, deep_params, repeat=repeat)
            tag = "by_name" if ordering == "name" else "newest"
            emit(f"page_list_street_category_{tag}_as_{who}_first_ms", first, "ms", PAGE_MS)
            emit(f"page_list_street_category_{tag}_as_{who}_page{reached + 1}_ms", deep, "ms", PAGE_MS)
        many = count_queries(client, url, {"unit": street.pk, "category": category.pk})
        sample = Veteran.objects.visible_to(user).filter(org_unit__path__startswith=street.path).active().first()
        # A full ID number is posted and listed under a session token (never in a URL).
        one = count_queries(client, client.post(reverse("registry:veteran_search"), {"q": sample.id_number})["Location"])
        emit(f"page_list_queries_50_rows_vs_1_row_as_{who}", many, "queries", one)

    client = client_for(street_user)
    in_street = Veteran.objects.active().filter(org_unit__path__startswith=street.path).exclude(phone="")
    middle = in_street.count() // 2
    sample = in_street.order_by("id")[middle:middle + 1].get()  # an ordinary person, deterministic
    terms = {"name": sample.name, "surname": sample.name[0], "pinyin": sample.name_pinyin,
             "initials": sample.name_initials, "first_letter": sample.name_initials[:1], "id_number": sample.id_number,
             "phone": sample.phone}
    log(f"search terms: {terms | {'id_number': sample.id_number_masked}}")
    for who, user in (("street", street_user), ("bureau", bureau_user)):
        client = client_for(user)
        for kind, text in terms.items():
            target, params = url, {"q": text}
            if kind == "id_number":  # posted, then listed under a session token (never in a URL)
                target, params = client.post(reverse("registry:veteran_search"), {"q": text})["Location"], None
            emit(f"page_search_{kind}_as_{who}_ms", timed_get(client, target, params, repeat=repeat), "ms", SEARCH_MS)
            # What the search box sends as the user types: an htmx request for the table alone.
            emit(f"page_search_{kind}_as_{who}_htmx_ms",
                 timed_get(client, target, params, repeat=repeat, HTTP_HX_REQUEST="true"), "ms", SEARCH_MS)

    detail = reverse("registry:veteran_detail", args=[sample.pk])
    for who, user in (("street", street_user), ("bureau", bureau_user)):
        client = client_for(user)
        emit(f"person_page_as_{who}_ms", timed_get(client, detail, repeat=repeat), "ms", PERSON_MS)
    client = client_for(street_user)
    for tab in ("service", "care", "family", "card", "history", "access"):
        emit(f"person_tab_{tab}_as_street_ms", timed_get(client, detail, {"tab": tab}, repeat=repeat, HTTP_HX_REQUEST="true"),
             "ms", PERSON_MS)


def bench_api(*, street_user, bureau_user, street, repeat: int) -> None:
    from django.urls import reverse

    from apps.registry.models import Code, Veteran

    url = reverse("veteran-list")
    category = Code.objects.get(kind="category", name="退役士兵")
    params = {"unit": street.pk, "category": category.pk}
    for who, user in (("street", street_user), ("bureau", bureau_user)):
        client = client_for(user)
        emit(f"api_list_street_category_as_{who}_first_ms", timed_get(client, url, params, repeat=repeat), "ms",
             PAGE_MS)
        deep, reached = walk_api(client, url, params, DEEP_PAGES)
        emit(f"api_list_street_category_as_{who}_page{reached}_ms", timed_get(client, deep, repeat=repeat), "ms",
             PAGE_MS)
        sample = Veteran.objects.visible_to(user).filter(org_unit__path__startswith=street.path).active().last()
        emit(f"api_search_initials_as_{who}_ms", timed_get(client, url, {"q": sample.name_initials}, repeat=repeat), "ms",
             SEARCH_MS)
        emit(f"api_search_id_number_as_{who}_ms", timed_get(client, url, {"q": sample.id_number}, repeat=repeat), "ms",
             SEARCH_MS)
        emit(f"api_retrieve_as_{who}_ms", timed_get(client, reverse("veteran-detail", args=[sample.pk]), repeat=repeat),
             "ms", PERSON_MS)
        many = count_queries(client, url, params)
        one = count_queries(client, url, {"q": sample.id_number})
        emit(f"api_list_queries_50_rows_vs_1_row_as_{who}", many, "queries", one)


# --- export, import, PDF (children measure their own time and peak memory) ------------------------


def run_child(task: str, **args) -> dict:
    """Run ``task`` in a fresh interpreter; its last stdout line is a JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", task, "--child-args", json.dumps(args)]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"child {task} failed:\n{result.stderr[-4000:]}")
    if result.stderr.strip():
        log(result.stderr.strip()[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def export_params_for(target_rows: int) -> tuple[dict, int]:
    """Filters under which bureau staff see about ``target_rows`` records: the district, or one street."""
    from apps.registry.models import Veteran

    total = Veteran.objects.active().count()
    if total <= target_rows * 1.5:
        return {}, total
    street, count = min(street_counts(), key=lambda pair: abs(pair[1] - target_rows))
    return {"unit": street.pk}, count


def bench_export(*, bureau_user, rows: int = 100_000, reference: bool = True) -> None:
    """Export of ~100,000 rows: ours vs django-import-export's default ModelResource and raw XlsxWriter."""
    params, expected = export_params_for(rows)
    log(f"export: {expected} rows with {params or 'no filter'}")
    ours = run_child("export-ours", user=bureau_user.pk, params=params)
    log(f"export: ours {ours}")
    emit("export_peak_memory_mb", ours["peak_mb"], "MB", EXPORT_PEAK_MB)
    writer = run_child("export-xlsxwriter", user=bureau_user.pk, params=params)
    log(f"export: XlsxWriter alone {writer}")
    emit(f"export_{ours['rows']}_rows_vs_xlsxwriter_s", ours["seconds"], "s", writer["seconds"] * EXPORT_VS_XLSXWRITER)
    if reference:
        default = run_child("export-import-export", user=bureau_user.pk, params=params)
        log(f"export: django-import-export {default}")
        emit(f"export_{ours['rows']}_rows_vs_import_export_s", ours["seconds"], "s",
             default["seconds"] * EXPORT_VS_IMPORT_EXPORT)


def bench_import(*, bureau_user, rows: int = 100_000, reference: bool = True) -> None:
    """Import of a 100,000-row sheet (validated, deduplicated, history kept) vs the default ModelResource."""
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    ours_file, default_file = folder / "veterans.xlsx", folder / "veterans_modelresource.xlsx"
    started = time.monotonic()
    write_import_sheets(rows, ours_file, default_file)
    log(f"import: sheets of {rows} rows written in {time.monotonic() - started:.0f} s ({folder})")
    ours = run_child("import-ours", user=bureau_user.pk, path=str(ours_file))
    log(f"import: ours {ours}")
    emit("import_peak_memory_mb", ours["peak_mb"], "MB", IMPORT_PEAK_MB)
    if reference:
        default = run_child("import-import-export", path=str(default_file))
        log(f"import: django-import-export {default}")
        emit(f"import_{ours['rows']}_rows_vs_import_export_s", ours["seconds"], "s",
             default["seconds"] * IMPORT_VS_IMPORT_EXPORT)
    else:
        emit(f"import_{ours['rows']}_rows_s", ours["seconds"], "s", 0)


def bench_pdf(*, street_user, street, repeat: int = 5) -> None:
    """One-person file PDF of a full record (care, family, card): median of warm renders ≤ 1 s."""
    from django.db.models import Count

    from apps.registry import pdf, selectors
    from apps.registry.models import Veteran

    in_street = Veteran.objects.visible_to(street_user).active().filter(org_unit__path__startswith=street.path)
    rich = (in_street.annotate(nf=Count("family", distinct=True), nc=Count("care", distinct=True))
            .filter(nf__gt=0, nc__gt=0).order_by("id").first())
    if rich is None:  # a small seed may have nobody with both family and care records in the street
        rich = in_street.order_by("id").first()
    veteran = selectors.veteran_detail(user=street_user, pk=rich.pk)
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        data = pdf.veteran_pdf(actor=street_user, veteran=veteran)
        times.append(time.perf_counter() - started)
    log(f"pdf: first render {times[0]:.2f} s, {len(data)} bytes")
    emit("pdf_one_person_s", statistics.median(times[1:]), "s", PDF_S)


# --- the import sheets ---------------------------------------------------------------------------


IMPORT_HEADERS = ["姓名", "公民身份号码", "性别", "出生日期", "民族", "政治面貌", "文化程度", "联系电话", "人员类别",
                  "入伍时间", "退役时间", "军种", "军人类别", "军衔", "退役方式", "退役证件", "退役证件编号", "常住地址",
                  "户籍地址", "所属村(社区)"]
MODEL_FIELDS = ["id", "name", "id_number_encrypted", "id_number_hash", "id_number_masked", "name_pinyin",
                "name_initials", "sex", "birth_date", "ethnic", "political", "education", "phone", "primary_category",
                "enlist_date", "discharge_date", "branch", "military_category", "rank", "discharge_mode",
                "certificate_type", "certificate_number", "address", "hukou_address", "org_unit", "status",
                "hukou_type", "enlist_place", "troop_code", "re_enlisted", "placement_unit", "notes", "status_reason"]


def write_import_sheets(rows: int, ours: Path, default: Path) -> None:
    """The same new people twice: as a station's sheet (title row, Chinese headers, names of codes, division
    codes) and in the default ModelResource's shape (field names, ids, precomputed encryption)."""
    import xlsxwriter

    from apps.registry import crypto, demo
    from apps.registry.models import Veteran

    known = set(Veteran.objects.values_list("id_number_hash", flat=True))
    units = demo.demo_units()
    unit_codes = {pk: code for pk, code, _name, _street in units}
    tables = demo.code_tables()
    names = {pk: name for table in tables.values() for name, pk in table.items()}
    generator = demo.Generator(913_579, units, tables)  # another seed: people not in the database yet
    fields = {name: i for i, name in enumerate(demo.VETERAN_COLUMNS[2:])}
    book_ours = xlsxwriter.Workbook(str(ours), {"constant_memory": True})
    book_default = xlsxwriter.Workbook(str(default), {"constant_memory": True})
    sheet_ours, sheet_default = book_ours.add_worksheet("花名册"), book_default.add_worksheet("Veteran")
    sheet_ours.write_string(0, 0, "浦口区退役军人花名册（测试）")
    sheet_ours.write_row(1, 0, IMPORT_HEADERS)
    sheet_default.write_row(0, 0, MODEL_FIELDS)
    written = 0
    while written < rows:
        person = generator.person()
        if person.digest in known:
            continue
        known.add(person.digest)
        f = person.fields

        def get(name, f=f):
            return f[fields[name]]

        def code_name(name, get=get):
            return names.get(get(name), "") if get(name) else ""

        def day(name, get=get):
            return get(name).isoformat() if get(name) else ""

        sheet_ours.write_row(written + 2, 0, [
            get("name"), person.number, "男" if get("sex") == "M" else "女", day("birth_date"), code_name("ethnic_id"),
            code_name("political_id"), code_name("education_id"), get("phone"), code_name("primary_category_id"),
            day("enlist_date"), day("discharge_date"), code_name("branch_id"), code_name("military_category_id"),
            code_name("rank_id"), code_name("discharge_mode_id"), code_name("certificate_type_id"),
            get("certificate_number"), get("address"), get("hukou_address"), unit_codes[get("org_unit_id")]])
        sheet_default.write_row(written + 1, 0, [
            "", get("name"), crypto.encrypt(person.number), person.digest, get("id_number_masked"),
            get("name_pinyin"), get("name_initials"), get("sex"), day("birth_date"), get("ethnic_id") or "",
            get("political_id") or "", get("education_id") or "", get("phone"), get("primary_category_id"),
            day("enlist_date"), day("discharge_date"), get("branch_id") or "", get("military_category_id") or "",
            get("rank_id") or "", get("discharge_mode_id") or "", get("certificate_type_id") or "",
            get("certificate_number"), get("address"), get("hukou_address"), get("org_unit_id"), "active",
            get("hukou_type"), get("enlist_place"), get("troop_code"), "0", "", "", ""])
        written += 1
    book_ours.close()
    book_default.close()


# --- child processes -----------------------------------------------------------------------------


def child(task: str, args: dict) -> None:
    setup_django()
    from django.db import transaction

    from apps.core.models import OrgUnit, User

    baseline = peak_mb()
    result: dict = {"baseline_mb": round(baseline, 1)}
    if task.startswith("export-"):
        from django.http import QueryDict

        from apps.registry import exporting, selectors

        user = User.objects.get(pk=args["user"])
        query = QueryDict(mutable=True)
        query.update(args["params"])
        out = Path(tempfile.mkdtemp(prefix="bench-export-")) / "out.xlsx"
        if task == "export-ours":
            started = time.perf_counter()
            exported = exporting.veteran_export(actor=user, params=query, target=str(out))
            result |= {"seconds": time.perf_counter() - started, "rows": exported.rows}
        elif task == "export-xlsxwriter":
            import xlsxwriter

            from apps.core.exports.xlsx import EXCEL_EPOCH

            # The same cells, already in memory (the query is not timed), written with XlsxWriter's typed
            # calls: the floor any xlsx export of these rows can reach.
            queryset = selectors.veteran_filterset(user=user, params=exporting.export_params(query)).qs
            rows = list(queryset.values_list(*[c.lookup for c in exporting.COLUMNS]))
            labels = {c.lookup: {k: str(v) for k, v in c.labels.items()} for c in exporting.COLUMNS if c.labels}
            kinds = [c.lookup if c.labels else c.kind for c in exporting.COLUMNS]
            epoch = EXCEL_EPOCH
            gc.collect()
            gc.freeze()  # the prefetched rows are not the writer's garbage to scan
            started = time.perf_counter()
            workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True})
            sheet = workbook.add_worksheet()
            date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
            for col, column in enumerate(exporting.COLUMNS):
                sheet.write_string(0, col, str(column.header))
            write_string, write_number = sheet.write_string, sheet.write_number
            for index, row in enumerate(rows, start=1):
                for col, (kind, value) in enumerate(zip(kinds, row, strict=True)):
                    if value is None or value == "":
                        continue
                    if kind == "date":
                        write_number(index, col, value.toordinal() - epoch, date_format)
                    elif kind in labels:
                        write_string(index, col, labels[kind].get(value, value))
                    else:
                        write_string(index, col, value)
            workbook.close()
            result |= {"seconds": time.perf_counter() - started, "rows": len(rows)}
        else:  # export-import-export
            from import_export.resources import modelresource_factory

            from apps.registry.models import Veteran

            queryset = selectors.veteran_filterset(user=user, params=exporting.export_params(query)).qs
            started = time.perf_counter()
            dataset = modelresource_factory(Veteran)().export(queryset=queryset)
            out.write_bytes(dataset.export("xlsx"))
            result |= {"seconds": time.perf_counter() - started, "rows": len(dataset)}
        result["bytes"] = out.stat().st_size
    elif task == "import-ours":
        from apps.registry import importing

        user = User.objects.get(pk=args["user"])
        district = OrgUnit.objects.get(depth=1)
        with transaction.atomic():
            started = time.perf_counter()
            report = importing.veteran_import(actor=user, path=args["path"], unit=district, commit=True)
            result |= {"seconds": time.perf_counter() - started, "rows": report.rows, "created": report.created,
                       "errors": report.errors}
            transaction.set_rollback(True)  # leave the bench database as it was
    elif task == "import-import-export":
        import tablib
        from import_export.resources import modelresource_factory

        from apps.registry.models import Veteran

        with transaction.atomic():
            started = time.perf_counter()
            loaded = tablib.Dataset().load(Path(args["path"]).read_bytes(), format="xlsx")
            # Empty cells come back as None; the model's text columns take "" (a CSV would give "").
            dataset = tablib.Dataset(*(tuple("" if v is None else v for v in row) for row in loaded),
                                     headers=loaded.headers)
            outcome = modelresource_factory(Veteran)().import_data(dataset, dry_run=False, raise_errors=True)
            result |= {"seconds": time.perf_counter() - started, "rows": len(dataset),
                       "created": outcome.totals.get("new", 0)}
            transaction.set_rollback(True)
    else:
        raise SystemExit(f"unknown child task {task}")
    result["peak_mb"] = round(peak_mb(), 1)
    print(json.dumps(result))


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--veterans", type=int, default=100_000, help="seed up to this many veterans first")
    parser.add_argument("--repeat", type=int, default=15, help="requests per figure (the median is reported)")
    parser.add_argument("--only", default="pages,api,export,import,pdf",
                        help="comma-separated parts: pages, api, export, import, pdf")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the export and import figures")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the slow django-import-export references (export, import)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-args", default="{}", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, json.loads(options.child_args))
        return

    setup_django()
    from apps.core.choices import Role
    from apps.core.models import OrgUnit

    describe_machine()

    total = ensure_veterans(options.veterans)
    streets = street_counts()
    street, street_rows = streets[0]
    log(f"data: {total} veterans; biggest street {street.name} ({street.code}) with {street_rows} on the register")
    street_user = bench_user("bench_street", Role.STREET_STATION, street)
    bureau_user = bench_user("bench_bureau", Role.BUREAU_STAFF, OrgUnit.objects.get(depth=1))
    parts = {p.strip() for p in options.only.split(",") if p.strip()}
    emit("veterans_in_database", total, "rows", options.veterans)
    if "pages" in parts:
        bench_pages(street_user=street_user, bureau_user=bureau_user, street=street, repeat=options.repeat)
    if "api" in parts:
        bench_api(street_user=street_user, bureau_user=bureau_user, street=street, repeat=options.repeat)
    if "pdf" in parts:
        bench_pdf(street_user=street_user, street=street)
    if "export" in parts:
        bench_export(bureau_user=bureau_user, rows=options.rows, reference=not options.no_reference)
    if "import" in parts:
        bench_import(bureau_user=bureau_user, rows=options.rows, reference=not options.no_reference)
        vacuum_if_needed()  # the imports were rolled back: their dead rows would slow the next run


if __name__ == "__main__":
    main()
