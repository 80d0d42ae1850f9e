"""Station home pages: every number equals a direct count of generated data, each opens the list showing the
same rows, a village sees only its own, a street's table lists only its villages, and the page's query count
does not grow with the number of villages or tasks. Other roles keep core's summary (the dashboard is wired
by its own part)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.care.models import DueVisit, LifeEvent, Occasion, VisitRule
from apps.core.choices import JobStatus
from apps.core.models import Job, OrgUnit
from apps.core.services import orgunit_create
from apps.registry import importing as registry_importing
from apps.registry.models import PreferentialCard, Veteran
from apps.reports import selectors
from apps.reports.views import home as home_views
from tests.care.helpers_pages import ensure_care_seed, make_task
from tests.conftest import login
from tests.registry.factories import make_veteran

pytestmark = pytest.mark.django_db

VILLAGES = ("village_a1", "village_a2", "village_b1")


@pytest.fixture(autouse=True)
def care_seed(roles):
    ensure_care_seed()


def _event_task(veteran, *, due, status="open", opens_on=None):
    occasion = Occasion.objects.get(code="hospitalised")
    event = LifeEvent.objects.create(veteran=veteran, org_unit_id=veteran.org_unit_id, occasion=occasion,
                                     date=due - timedelta(days=3))
    rule = VisitRule.objects.get(name="六必访：事件发生3日内走访")
    return make_task(veteran, due=due, rule=rule, status=status, life_event=event, opens_on=opens_on)


@pytest.fixture
def data(tree, users):
    """Random but reproducible: people, tasks of every kind, life-event tasks, cards and jobs in three villages."""
    rng = random.Random(12)
    today = timezone.localdate()
    people = {}
    for village in VILLAGES:
        people[village] = [make_veteran(tree[village], name=f"{village[-2:]}老兵{i}") for i in range(6)]
    DueVisit.objects.all().delete()  # the tasks the rules gave the new records: the test sets its own
    for village in VILLAGES:
        for person in people[village]:
            for _ in range(rng.randint(1, 4)):
                due = today + timedelta(days=rng.randint(-40, 40))
                opens = due - timedelta(days=rng.randint(0, 30))
                make_task(person, due=due, opens_on=opens, status=rng.choice(["open", "open", "done", "cancelled"]),
                          level=rng.choice([0, 0, 1, 2]))
        for person in people[village][:rng.randint(1, 3)]:
            _event_task(person, due=today + timedelta(days=rng.randint(-3, 3)), opens_on=today - timedelta(days=4))
        _event_task(people[village][5], due=today + timedelta(days=1), status="done", opens_on=today - timedelta(days=4))
        for person, status in zip(people[village], ["applied", "approved", "applied", "issued", "filed"], strict=False):
            PreferentialCard.objects.create(veteran=person, status=status)
    for name in ("village_a1", "street_a"):
        user = users[name]
        Job.objects.create(kind="registry.export", user=user, title="失败的导出", status=JobStatus.FAILED)
        Job.objects.create(kind=registry_importing.JOB_KIND, user=user, title="待确认的导入", status=JobStatus.DONE,
                           params={"phase": "preview"})
        Job.objects.create(kind=registry_importing.JOB_KIND, user=user, title="已导入", status=JobStatus.DONE,
                           params={"phase": "commit"})
    Job.objects.create(kind="registry.export", user=users["village_a2"], title="别人的失败", status=JobStatus.FAILED)
    return people


def _units_of(unit: OrgUnit):
    return OrgUnit.objects.filter(path__startswith=unit.path)


def expected(user) -> dict:
    """The numbers counted directly, without the selectors."""
    today = timezone.localdate()
    week_end = today + timedelta(days=6 - today.weekday())
    tasks = DueVisit.objects.filter(org_unit__in=_units_of(user.org_unit), status="open", opens_on__lte=today)
    cards = PreferentialCard.objects.filter(veteran__org_unit__in=_units_of(user.org_unit))
    jobs = Job.objects.filter(user=user)
    found = {
        "today": tasks.filter(due_date=today).count(),
        "overdue": tasks.filter(due_date__lt=today).count(),
        "week": tasks.filter(due_date__gte=today, due_date__lte=week_end).count(),
        "events": tasks.filter(life_event__isnull=False).count(),
        "cards-applied": cards.filter(status="applied").count(),
        "cards-approved": cards.filter(status="approved").count(),
        "jobs-failed": jobs.filter(status="failed").count(),
        "imports-awaiting": jobs.filter(status="done", params__phase="preview").count(),
    }
    if user.org_unit.level == "street":
        found["escalated"] = tasks.filter(level__gte=1).count()
    return found


def tiles(response) -> dict[str, int]:
    body = response.content.decode()
    return {key: int(value) for key, value in re.findall(r'data-tile="([\w-]+)"[^>]*>(\d+)<', body)}


def tile_url(response, key: str) -> str:
    match = re.search(rf'href="([^"]+)" data-tile="{key}"', response.content.decode())
    return match.group(1).replace("&amp;", "&")


def worklist_count(client, url: str) -> int:
    """The number of rows the worklist shows at ``url`` (its active tab's count and the rows of its table)."""
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    view = re.search(r"view=(\w+)", url).group(1)
    count = int(re.search(rf'data-count="{view}">(\d+)', body).group(1))
    rows = len(re.findall(r"<tr[^>]*data-task=", body[body.index('id="worklist-results"'):]))
    assert rows == count, url
    return count


@pytest.mark.parametrize("who", ["village_a1", "village_b1", "street_a", "street_b"])
def test_every_number_is_a_direct_count_and_opens_its_list(client, users, data, who):
    user = users[who]
    login(client, user)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert response.templates[0].name == "reports/home_station.html"
    shown = tiles(response)
    want = expected(user)
    assert {key: shown.get(key) for key in want} == want
    assert want["overdue"] and want["events"] and want["cards-applied"]  # the data exercise every number
    if user.org_unit.level == "community":
        assert "escalated" not in shown

    for key in ("today", "overdue", "week") + (("escalated",) if "escalated" in want else ()):
        assert worklist_count(client, tile_url(response, key)) == want[key], key
    # Life events: one link per occasion, each the worklist's open tab of that occasion.
    body = response.content.decode()
    links = re.findall(r'href="([^"]+)" data-event-occasion="\d+">[^<]*?(\d+)</a>', body)
    assert sum(int(n) for _url, n in links) == want["events"]
    for url, n in links:
        assert worklist_count(client, url.replace("&amp;", "&")) == int(n)
    # Cards: the list of waiting applications, filtered by status.
    for key, status in (("cards-applied", "applied"), ("cards-approved", "approved")):
        page = client.get(tile_url(response, key))
        assert page.status_code == 200
        rows = re.findall(r"<tr[^>]*>\s*<td[^>]*><a href=\"/veterans/(\d+)/\?tab=card\"", page.content.decode())
        assert len(rows) == want[key]
        assert set(Veteran.objects.filter(pk__in=rows).values_list("org_unit__path", flat=True)) <= {
            u.path for u in _units_of(user.org_unit)}
        assert set(PreferentialCard.objects.filter(veteran_id__in=rows).values_list("status", flat=True)) <= {status}
    # Jobs: the download centre and the import waiting for its confirmation.
    assert tile_url(response, "jobs-failed") == reverse("jobs:job_list")
    awaiting = Job.objects.filter(user=user, params__phase="preview").first()
    assert tile_url(response, "imports-awaiting") == (
        reverse("registry:import_detail", args=[awaiting.pk]) if awaiting else reverse("registry:import_upload"))
    assert client.get(tile_url(response, "imports-awaiting")).status_code == 200


def village_table(response) -> dict[int, dict]:
    body = response.content.decode()
    table = body[body.index('id="home-villages"'):]
    rows = {}
    for pk, row in re.findall(r'<tr data-village="(\d+)">(.*?)</tr>', table, re.S):
        cells = dict(re.findall(r'data-cell="([\w-]+)"[^>]*>(.*?)</', row, re.S))
        rows[int(pk)] = cells
    return rows


def test_street_table_lists_its_villages_worst_first_with_direct_counts(client, users, tree, data):
    login(client, users["street_a"])
    response = client.get(reverse("core:home"))
    rows = village_table(response)
    assert set(rows) == {tree["village_a1"].pk, tree["village_a2"].pk}  # street B's village is not there
    today = timezone.localdate()
    start, end = selectors.quarter_bounds(today)
    ordered = [int(pk) for pk in re.findall(r'<tr data-village="(\d+)">', response.content.decode())]
    keys = []
    for pk in ordered:
        tasks = DueVisit.objects.filter(org_unit_id=pk)
        open_now = tasks.filter(status="open", opens_on__lte=today)
        overdue = open_now.filter(due_date__lt=today).count()
        assert int(rows[pk]["open"]) == open_now.count()
        assert int(rows[pk]["overdue"]) == overdue
        due = tasks.filter(due_date__gte=start, due_date__lte=end).exclude(status="cancelled")
        done = due.filter(status="done").count()
        coverage = round(100 * done / due.count()) if due.count() else None
        cell = re.search(rf'data-village="{pk}">.*?data-cell="coverage" data-done="(\d+)" data-due="(\d+)">(.*?)</td>',
                         response.content.decode(), re.S)
        assert (int(cell.group(1)), int(cell.group(2))) == (done, due.count())
        assert (f">{coverage}%<" in cell.group(3)) if coverage is not None else ("—" in cell.group(3))
        last = Veteran.objects.filter(org_unit_id=pk).latest("updated_at").updated_at
        assert rows[pk]["last-update"] == timezone.localtime(last).strftime("%Y-%m-%d %H:%M")
        keys.append((-overdue, 101 if coverage is None else coverage))
    assert keys == sorted(keys)
    # A row's numbers open the worklist of that village with the same count.
    body = response.content.decode()
    for pk in ordered:
        for cell, view in (("open", "open"), ("overdue", "overdue")):
            url = re.search(rf'data-village="{pk}">.*?href="([^"]+)" data-cell="{cell}"', body, re.S).group(1)
            assert f"unit={pk}" in url and f"view={view}" in url
            assert worklist_count(client, url.replace("&amp;", "&")) == int(rows[pk][cell])


def test_coverage_counts_tasks_due_this_quarter(users, tree):
    today = timezone.localdate()
    start, end = selectors.quarter_bounds(today)
    person = make_veteran(tree["village_a2"], name="覆盖老兵")
    DueVisit.objects.all().delete()
    make_task(person, due=start, status="done")
    make_task(person, due=end, opens_on=start, status="open")
    make_task(person, due=start, status="cancelled")
    make_task(person, due=start - timedelta(days=1), status="done")  # last quarter
    rows = {r["unit"].pk: r for r in selectors.village_rows(user=users["street_a"], street=tree["street_a"], on=today)}
    row = rows[tree["village_a2"].pk]
    assert (row["done"], row["due"], row["coverage"]) == (1, 2, 50)
    assert rows[tree["village_a1"].pk]["coverage"] is None


def test_a_village_sees_only_its_own(client, users, tree, data):
    login(client, users["village_a2"])
    response = client.get(reverse("core:home"))
    body = response.content.decode()
    assert 'id="home-villages"' not in body
    shown = tiles(response)
    want = expected(users["village_a2"])
    assert {key: shown.get(key) for key in want} == want
    assert (shown["jobs-failed"], shown["imports-awaiting"]) == (1, 0)  # its own failed job only
    # The cards list of a village shows none of a sibling's.
    page = client.get(reverse("reports:home_cards_waiting"))
    ids = {int(pk) for pk in re.findall(r'/veterans/(\d+)/\?tab=card', page.content.decode())}
    assert ids and set(Veteran.objects.filter(pk__in=ids).values_list("org_unit_id", flat=True)) == {
        tree["village_a2"].pk}


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("core:home")).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["street_a", "village_a1"])
def test_query_count_does_not_grow_with_villages_or_tasks(client, users, tree, data, who):
    login(client, users[who])
    client.get(reverse("core:home"))  # warm the per-process reference snapshot
    before = _home_queries(client)
    for i in range(4):
        village = orgunit_create(actor=None, parent=tree["street_a"], code=f"32011100130{i}", name=f"新村{i}")
        person = make_veteran(village, name=f"新村老兵{i}")
        for _ in range(3):
            make_task(person, due=timezone.localdate() - timedelta(days=2))
    for person in data["village_a1"]:
        make_task(person, due=timezone.localdate())
        _event_task(person, due=timezone.localdate())
    client.get(reverse("core:home"))  # the tree changed: the snapshot reloads once
    assert _home_queries(client) == before
    assert before <= 16


def test_district_roles_go_to_the_dashboard_and_others_keep_the_summary(client, users):
    for who in ("leader", "bureau"):
        login(client, users[who])
        response = client.get(reverse("core:home"))
        assert (response.status_code, response["Location"]) == (302, reverse("reports:dashboard")), who
    login(client, users["enterprise"])
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert response.templates[0].name == "core/home.html"


def test_dashboard_home_waits_for_the_dashboard_route(rf, users):
    request = rf.get("/")
    request.user = users["leader"]
    assert home_views.dashboard_applies(users["leader"])
    assert not home_views.dashboard_applies(users["street_a"])
    try:
        reverse("reports:dashboard")
    except Exception:  # noqa: BLE001 - not installed yet: core's summary stays
        assert home_views.dashboard_home(request) is None
    else:
        response = home_views.dashboard_home(request)
        assert response.status_code == 302 and response["Location"] == reverse("reports:dashboard")


def test_cards_waiting_list_rejects_users_without_the_permission(client, users):
    login(client, users["enterprise"])
    assert client.get(reverse("reports:home_cards_waiting")).status_code == 403
