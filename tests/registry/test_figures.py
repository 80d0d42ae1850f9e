"""The registry's figures against a direct count: people on the register (now and as at a past day), their
breakdowns, new records, transfers, 优待证 events, completeness and the last update, at every unit of the tree.

The expected numbers are counted here in Python from the rows themselves (the rules written out again, not the
figures' SQL), then summed over each unit's subtree."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.core import figures
from apps.core.figures.store import clear_process_cache
from apps.registry import services
from apps.registry.choices import VeteranStatus
from apps.registry.models import CardEvent, CareEntitlement, Code, Transfer, Veteran
from tests.conftest import login
from tests.registry.factories import category, id_number, make_veteran

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 5, 15)  # in 2026-Q2; 2026-Q1 is a past period, 2020-Q1 one with no data


def at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


# --- helpers shared with the other apps' figure tests ---------------------------------------------------------------


def expected_by_unit(tree, items) -> dict[tuple[int, str], list]:
    """Sum ``(unit_pk, bucket, value, base)`` items over each tree unit's subtree: ``{(unit_pk, bucket): [v, b]}``."""
    paths = {u.pk: u.path for u in tree.values()}
    sums: dict[tuple[int, str], list] = defaultdict(lambda: [0, 0])
    for unit_pk, bucket, value, base in items:
        for unit in tree.values():
            if paths[unit_pk].startswith(unit.path):
                sums[(unit.pk, bucket)][0] += value
                sums[(unit.pk, bucket)][1] += base or 0
    return sums


def assert_figure(tree, key: str, period, items, *, buckets=None, ratio: bool = False) -> dict:
    """The figure's reading at every unit of the tree equals the sums of ``items`` (and for every bucket in
    ``buckets``: the figure's own buckets by default). Returns the readings by unit name."""
    clear_process_cache()
    figure = figures.get(key)
    readings = figures.read([figure], [period], [u.pk for u in tree.values()])
    expected = expected_by_unit(tree, items)
    names = [code for code, _label in figure.buckets()] if buckets is None and figure.buckets else (buckets or [])
    found = {}
    for name, unit in tree.items():
        reading = readings[(key, period.key, unit.pk)]
        found[name] = reading
        want = expected.get((unit.pk, ""), [0, 0])
        assert reading.value == want[0], (key, period.key, name, "total", reading.value, want)
        if ratio:
            assert reading.base == want[1], (key, period.key, name, "base", reading.base, want)
        for bucket in names:
            want = expected.get((unit.pk, bucket), [0, 0])
            value, base = reading.bucket(bucket)
            assert value == want[0], (key, period.key, name, bucket, value, want)
    return found


# --- the data ---------------------------------------------------------------------------------------------------------


def day_of(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def on_register(person: Veteran, day: date) -> bool:
    if day_of(person.created_at) > day:
        return False
    return person.status == VeteranStatus.ACTIVE or (person.status_date is not None and person.status_date > day)


def unit_on(person: Veteran, day: date) -> int:
    later = [t for t in Transfer.objects.filter(veteran=person).order_by("date", "id")
             if t.date > day and t.from_unit_id and t.to_unit_id]
    return later[0].from_unit_id if later else person.org_unit_id


def age_on(person: Veteran, day: date) -> int:
    born = person.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def band(age: int) -> str:
    if age < 30:
        return "0-29"
    if age >= 80:
        return "80+"
    return f"{age // 10 * 10}-{age // 10 * 10 + 9}"


def is_complete(person: Veteran) -> bool:
    return bool(person.name and person.phone and person.address and person.enlist_date and person.discharge_date
                and (person.primary_category_id or person.categories.exists()))


@pytest.fixture
def people(tree, users):
    """Records across the tree: created before and in the periods, closed, moved within and out of the
    district, with care categories, cards, complete and incomplete."""
    a1, a2, b1 = tree["village_a1"], tree["village_a2"], tree["village_b1"]
    actor = users["admin"]
    full = {"phone": "13800000000", "address": "某路1号", "enlist_date": date(1970, 3, 1),
            "discharge_date": date(1975, 3, 1)}
    made = {}
    with at(date(2025, 12, 1)):
        made["p1"] = make_veteran(a1, name="甲一", id_number=id_number("19500101", sequence=11), **full)
        made["p2"] = make_veteran(a2, name="甲二", id_number=id_number("19900101", sequence=12),
                                  **{**full, "phone": ""})  # incomplete
        made["p3"] = make_veteran(b1, name="乙三", id_number=id_number("19600615", sequence=13), **full,
                                  primary_category=category("残疾军人"))
        made["p4"] = make_veteran(a1, name="甲四", id_number=id_number("19400101", sequence=15), **full)
        made["p5"] = make_veteran(a1, name="甲五", id_number=id_number("19851231", sequence=17), **full,
                                  primary_category=None)  # no category at all: incomplete, in no category bucket
        made["p6"] = make_veteran(a1, name="甲六", id_number=id_number("19700701", sequence=18), **full)
        made["p8"] = make_veteran(a1, name="甲八", id_number=id_number("19960229", sequence=19), **full,
                                  primary_category=category("复员军人"))
        made["p10"] = make_veteran(a1, name="甲十", id_number=id_number("19560420", sequence=21), **full)
        disabled = Code.objects.get(kind="care_category", name="残疾军人")
        services.care_entitlement_save(actor=actor, veteran=made["p3"], category=disabled, disability_grade=5,
                                       disability_nature="war", start_date=date(2025, 1, 1))
        services.care_entitlement_save(actor=actor, veteran=made["p3"],
                                       category=Code.objects.get(kind="care_category", name="烈士遗属"),
                                       start_date=date(2026, 4, 1))  # not yet held on 2026-03-31
        services.care_entitlement_save(actor=actor, veteran=made["p1"],
                                       category=Code.objects.get(kind="care_category", name="在乡复员军人"))
        services.care_entitlement_save(actor=actor, veteran=made["p6"],
                                       category=Code.objects.get(kind="care_category", name="在乡复员军人"),
                                       end_date=date(2026, 1, 31))  # ended before 2026-03-31
    with at(date(2026, 2, 1)):
        made["p9"] = make_veteran(b1, name="乙九", id_number=id_number("19800808", sequence=23), **full)
        card = services.card_create(actor=actor, veteran=made["p9"], card_type="veteran")
        services.card_event_record(actor=actor, card=card, kind="apply", on=date(2026, 1, 20))  # in Q1
        services.card_event_record(actor=actor, card=card, kind="approve", on=date(2026, 1, 25))
    with at(date(2026, 2, 10)):
        services.veteran_close(actor=actor, veteran=made["p4"], status="deceased", on=date(2026, 2, 10))
    with at(date(2026, 2, 15)):
        services.veteran_transfer(actor=actor, veteran=made["p10"], to_unit=a2, on=date(2026, 2, 15))  # Q1, in street A
        card1 = services.card_create(actor=actor, veteran=made["p1"], card_type="veteran")
        services.card_event_record(actor=actor, card=card1, kind="apply", on=date(2026, 2, 15))
    with at(date(2026, 3, 1)):
        services.card_event_record(actor=actor, card=card, kind="issue", on=date(2026, 3, 1), number="C1")
    with at(date(2026, 4, 5)):
        made["p7"] = make_veteran(a2, name="甲七", id_number=id_number("19991010", sequence=25), **full)
        services.card_event_record(actor=actor, card=card1, kind="issue", on=date(2026, 4, 5), number="C2")
        services.card_event_record(actor=actor, card=card1, kind="loss", on=date(2026, 4, 5))
        services.card_event_record(actor=actor, card=card1, kind="reissue", on=date(2026, 4, 5))  # not a first issue
    with at(date(2026, 4, 10)):
        services.veteran_transfer(actor=actor, veteran=made["p6"], to_unit=b1, on=date(2026, 4, 10))  # after Q1
    with at(date(2026, 4, 20)):
        services.veteran_close(actor=actor, veteran=made["p5"], status="cancelled", on=date(2026, 4, 20))
    with at(date(2026, 5, 1)):
        services.veteran_transfer(actor=actor, veteran=made["p8"], to_unit=None, on=date(2026, 5, 1),
                                  destination="南京市鼓楼区")
    return made


def _everyone():
    return list(Veteran.objects.prefetch_related("categories"))


PERIODS = [figures.Period.parse("2026-Q2"), figures.Period.parse("2026-Q1"), figures.Period.parse("2026-02"),
           figures.Period.parse("2025"), figures.Period.parse("2020-Q1")]


@pytest.fixture
def today(people):
    with at(TODAY):
        yield TODAY


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.key)
def test_stock_figures_match_a_direct_count(tree, today, period):
    day = period.as_at()
    assert day == (TODAY if period.key == "2026-Q2" else period.end)
    standing = [p for p in _everyone() if on_register(p, day)]
    if period.key == "2020-Q1":
        assert standing == []
    codes = {c.pk: c.code for c in Code.objects.all()}

    def rows(bucket):
        return [(unit_on(p, day), bucket(p), 1, None) for p in standing]

    total = rows(lambda p: "")
    assert_figure(tree, "registry.veterans", period, total)
    assert_figure(tree, "registry.by_category", period,
                  total + [r for r in rows(lambda p: codes.get(p.primary_category_id)) if r[1]])
    assert_figure(tree, "registry.by_sex", period, total + rows(lambda p: p.sex))
    assert_figure(tree, "registry.by_age_band", period, total + rows(lambda p: band(age_on(p, day))))
    held = defaultdict(set)
    for ent in CareEntitlement.objects.all():
        if (ent.start_date is None or ent.start_date <= day) and (ent.end_date is None or ent.end_date >= day):
            held[ent.veteran_id].add(codes[ent.category_id])
    care = [(unit_on(p, day), "", 1, None) for p in standing if held[p.pk]]
    care += [(unit_on(p, day), code, 1, None) for p in standing for code in held[p.pk]]
    assert_figure(tree, "registry.by_care_category", period, care)
    assert_figure(tree, "registry.completeness", period,
                  [(unit_on(p, day), "", int(is_complete(p)), 1) for p in standing], ratio=True)


def test_the_rules_are_tested_by_the_data(tree, today):
    """The data holds what the rules are about: a figure that ignored closures, transfers, dates or categories would
    differ from the count (the numbers here are the expected ones, written out)."""
    def value(key, period, unit, bucket=""):
        clear_process_cache()
        return figures.read([key], [figures.Period.parse(period)], [tree[unit].pk])[
            (key, period, tree[unit].pk)].bucket(bucket)[0]

    assert value("registry.veterans", "2026-Q1", "district") == 8  # p4 died in Q1, p7 not yet created
    assert value("registry.veterans", "2026-Q2", "district") == 7  # p5 cancelled, p8 moved out, p7 new
    assert value("registry.veterans", "2026-Q1", "village_a1") == 4  # p1, p5, p6 (moved away later), p8
    assert value("registry.veterans", "2026-Q2", "village_b1") == 3  # p3, p9, p6
    assert value("registry.by_category", "2026-Q1", "district", category("残疾军人").code) == 1
    assert value("registry.by_care_category", "2026-Q1", "district") == 2  # p1, p3 (p6's ended)
    assert value("registry.by_care_category", "2026-Q2", "district") == 2
    assert value("registry.by_sex", "2026-Q2", "district", "F") == 2  # p2, p6 (even sequences)
    assert value("registry.by_age_band", "2026-Q2", "district", "70-79") == 2  # p1 (76), p10 (70 since 20 April)
    assert value("registry.by_age_band", "2026-Q1", "district", "60-69") == 2  # p10 (69 on 31 March), p3
    assert value("registry.transfers_in", "2026-Q1", "village_a2") == 1
    assert value("registry.transfers_in", "2026-Q1", "street_a") == 0
    assert value("registry.transfers_out", "2026-Q2", "district") == 1  # p8 out of the district
    assert value("registry.transfers_in", "2026-Q2", "street_b") == 1  # p6 from street A
    assert value("registry.transfers_in", "2026-Q2", "district") == 0
    assert value("registry.cards_issued", "2026-Q2", "district") == 1  # the reissue is not counted


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.key)
def test_flow_figures_match_a_direct_count(tree, today, period):
    start, end = period.bounds()
    created = [(p.org_unit_id, "", 1, None) for p in _everyone() if start <= p.created_at < end]
    assert_figure(tree, "registry.new_records", period, created)
    paths = {u.pk: u.path for u in tree.values()}
    moved_in, moved_out = [], []
    for t in Transfer.objects.filter(date__gte=period.start, date__lte=period.end):
        # A transfer counts for a unit when one end is inside it and the other is not.
        for unit in tree.values():
            inside_from = t.from_unit_id is not None and paths[t.from_unit_id].startswith(unit.path)
            inside_to = t.to_unit_id is not None and paths[t.to_unit_id].startswith(unit.path)
            if inside_to and not inside_from:
                moved_in.append(unit.pk)
            if inside_from and not inside_to:
                moved_out.append(unit.pk)
    clear_process_cache()
    for key, expected in (("registry.transfers_in", moved_in), ("registry.transfers_out", moved_out)):
        readings = figures.read([key], [period], [u.pk for u in tree.values()])
        for name, unit in tree.items():
            assert readings[(key, period.key, unit.pk)].value == expected.count(unit.pk), (key, name)
    for key, kind in (("registry.cards_applied", "apply"), ("registry.cards_issued", "issue")):
        events = CardEvent.objects.filter(kind=kind, date__gte=period.start, date__lte=period.end).select_related("card__veteran")
        assert_figure(tree, key, period, [(e.card.veteran.org_unit_id, "", 1, None) for e in events])


def test_last_update_is_the_newest_change_below_each_unit(tree, today, people):
    period = figures.Period.parse("2026-Q2")
    newest = {}
    for p in Veteran.objects.all():
        newest[p.org_unit_id] = max(newest.get(p.org_unit_id, 0), int(p.updated_at.timestamp()))
    clear_process_cache()
    readings = figures.read(["registry.last_update"], [period], [u.pk for u in tree.values()])
    for name, unit in tree.items():
        want = max((ts for pk, ts in newest.items() if next(u for u in tree.values() if u.pk == pk).path.startswith(unit.path)),
                   default=0)
        assert readings[("registry.last_update", period.key, unit.pk)].value == want, name
    assert readings[("registry.last_update", period.key, tree["district"].pk)].shown.date() == date(2026, 5, 1)
    # Before anything was recorded: nothing.
    old = figures.Period.parse("2020-Q1")
    assert figures.read(["registry.last_update"], [old], [tree["district"].pk])[
        ("registry.last_update", old.key, tree["district"].pk)].shown is None


def test_links_open_the_matching_list(client, tree, users, today):
    """Every figure's link (total and buckets) opens for a user in scope, and the list behind the register figures
    holds the number the figure shows."""
    from apps.registry.filters import VeteranFilterSet

    period = figures.Period.parse("2026-Q1")
    for user_name, unit_name in (("leader", "district"), ("street_a", "street_a"), ("village_a1", "village_a1")):
        login(client, users[user_name])
        unit = tree[unit_name]
        for figure in [f for f in figures.all_figures() if f.app == "registry"]:
            buckets = [""] + [code for code, _label in (figure.buckets() if figure.buckets else [])][:3]
            for bucket in buckets:
                url = figure.url(unit, period, bucket)
                assert url, figure.key
                response = client.get(url)
                assert response.status_code == 200, (figure.key, bucket, url)
    # The register of a past day: the list filtered by the link's parameters counts what the figure counts.
    from django.http import QueryDict

    clear_process_cache()
    for key, bucket in (("registry.veterans", ""), ("registry.by_sex", "M"), ("registry.by_age_band", "60-69"),
                        ("registry.completeness", "")):
        figure = figures.get(key)
        for unit in tree.values():
            url = figure.url(unit, period, bucket)
            params = QueryDict(url.split("?", 1)[1])
            listed = VeteranFilterSet(params, queryset=Veteran.objects.all(), user=users["admin"]).qs.count()
            reading = figures.read([figure], [period], [unit.pk])[(key, period.key, unit.pk)]
            value, base = reading.bucket(bucket)
            if key == "registry.completeness":
                value = base - value  # the link lists the incomplete records
            # The list knows the unit of now only: p6 moved from A1 to B1 after the period, so only the units
            # that move does not touch list exactly what the figure counts.
            if unit.pk in (tree["district"].pk, tree["village_a2"].pk):
                assert listed == value, (key, bucket, unit.name, listed, value)


def test_a_street_user_cannot_open_another_streets_list(client, tree, users, today):
    login(client, users["street_a"])
    url = figures.get("registry.veterans").url(tree["street_b"], figures.Period.current(), "")
    response = client.get(url)
    # The unit filter offers only the user's units: another street's id is not a choice, so nothing of it shows.
    assert response.status_code == 200
    assert "乙九" not in response.content.decode()
