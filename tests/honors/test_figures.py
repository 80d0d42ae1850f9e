"""The honours figures against a direct count at every unit: plaques hung and their coverage (now and as at a
past day, with a closed record and a transfer), merit notices delivered within the rule's days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.core import figures
from apps.honors.models import MeritNotice, PlaqueRecord
from apps.registry import services as registry_services
from apps.registry.models import Veteran
from tests.conftest import login
from tests.honors.factories import deliver, make_notice, make_plaque
from tests.registry.factories import id_number, make_veteran
from tests.registry.test_figures import assert_figure, at, on_register, unit_on

pytestmark = pytest.mark.django_db
TODAY = date(2026, 5, 15)
PERIODS = [figures.Period.parse("2026-Q2"), figures.Period.parse("2026-Q1"), figures.Period.parse("2026-03"),
           figures.Period.parse("2020-Q1")]


@pytest.fixture
def honours(tree, users):
    actor = users["admin"]
    a1, a2, b1 = tree["village_a1"], tree["village_a2"], tree["village_b1"]
    with at(date(2025, 12, 1)):
        people = {name: make_veteran(unit, name=name, id_number=id_number(birth)) for name, unit, birth in (
            ("h1", a1, "19500101"), ("h2", a1, "19520202"), ("h3", a2, "19540303"), ("h4", b1, "19560404"),
            ("h5", b1, "19580505"), ("h6", a2, "19600606"))}
        make_plaque(people["h1"], actor=actor, date=date(2025, 11, 20))
    with at(date(2026, 2, 1)):
        make_plaque(people["h2"], actor=actor, date=date(2026, 2, 1))
        make_plaque(people["h2"], actor=actor, action="replace", date=date(2026, 2, 1))  # one household, twice
        n1 = make_notice(people["h3"], actor=actor, notice_date=date(2026, 2, 1))  # deadline 2-08
    with at(date(2026, 2, 5)):
        deliver(n1, actor=actor, delivered_on=date(2026, 2, 5))  # on time
    with at(date(2026, 3, 1)):
        n2 = make_notice(people["h4"], actor=actor, notice_date=date(2026, 3, 1))  # deadline 3-08
        make_plaque(people["h6"], actor=actor, date=date(2026, 3, 1))
    with at(date(2026, 3, 12)):
        deliver(n2, actor=actor, delivered_on=date(2026, 3, 12))  # late
    with at(date(2026, 3, 20)):
        make_notice(people["h5"], actor=actor, notice_date=date(2026, 3, 20))  # deadline 3-27, never delivered
    with at(date(2026, 4, 10)):
        make_plaque(people["h4"], actor=actor, date=date(2026, 4, 10))  # after Q1
        registry_services.veteran_close(actor=actor, veteran=people["h6"], status="deceased", on=date(2026, 4, 10))
        registry_services.veteran_transfer(actor=actor, veteran=people["h2"], to_unit=b1, on=date(2026, 4, 10))
    with at(date(2026, 5, 12)):
        make_notice(people["h1"], actor=actor, notice_date=date(2026, 5, 12))  # deadline 5-19: still in its days
    with at(TODAY):
        yield people


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.key)
def test_honours_figures_match_a_direct_count(tree, honours, period):
    day = period.as_at()
    standing = [p for p in Veteran.objects.all() if on_register(p, day)]
    hung = {r.veteran_id for r in PlaqueRecord.objects.filter(date__lte=day)}
    assert_figure(tree, "honors.plaques_hung", period, [(unit_on(p, day), "", 1, None) for p in standing
                                                        if p.pk in hung])
    assert_figure(tree, "honors.plaque_coverage", period, [(unit_on(p, day), "", int(p.pk in hung), 1)
                                                           for p in standing], ratio=True)
    due = []
    for notice in MeritNotice.objects.all():
        deadline = notice.notice_date + timedelta(days=7)
        if period.start <= deadline <= period.end and (notice.delivered_on or deadline < TODAY):
            due.append((notice.org_unit_id, "", int(bool(notice.delivered_on and notice.delivered_on <= deadline)), 1))
    assert_figure(tree, "honors.notices_delivered_on_time", period, due, ratio=True)


def test_the_data_reaches_the_rules(tree, honours):
    def reading(key, period, unit="district"):
        p = figures.Period.parse(period)
        return figures.read([key], [p], [tree[unit].pk])[(key, p.key, tree[unit].pk)]

    assert (reading("honors.plaque_coverage", "2026-Q1").value, reading("honors.plaque_coverage", "2026-Q1").base) == (3, 6)
    assert (reading("honors.plaque_coverage", "2026-Q2").value, reading("honors.plaque_coverage", "2026-Q2").base) == (3, 5)
    assert reading("honors.plaques_hung", "2026-Q1", "street_a").value == 3  # h2 still in A1 on 3-31
    assert reading("honors.plaques_hung", "2026-Q2", "street_b").value == 2  # h4 and h2, moved in
    on_time = reading("honors.notices_delivered_on_time", "2026-Q1")
    assert (on_time.value, on_time.base) == (1, 3)
    assert reading("honors.notices_delivered_on_time", "2026-Q2").base == 0  # h1's is still within its days


def test_links_open_for_a_user_in_scope(client, tree, users, honours):
    period = figures.Period.parse("2026-Q1")
    for user_name, unit_name in (("leader", "district"), ("street_a", "street_a"), ("village_a1", "village_a1")):
        login(client, users[user_name])
        for figure in [f for f in figures.all_figures() if f.app == "honors"]:
            url = figure.url(tree[unit_name], period, "")
            assert url and client.get(url).status_code == 200, (figure.key, user_name, url)
