"""The 机关驻街 figure against a direct count: items done by their due date, per street and for the district."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core import figures
from apps.liaison import services
from apps.liaison.models import LiaisonTask
from tests.conftest import login
from tests.registry.test_figures import assert_figure, at

pytestmark = pytest.mark.django_db
TODAY = date(2026, 5, 15)


@pytest.fixture
def items(tree, users):
    bureau = users["bureau"]
    with at(date(2026, 1, 2)):
        a = services.pairing_save(actor=bureau, department="优抚科", street=tree["street_a"])
        b = services.pairing_save(actor=bureau, department="安置科", street=tree["street_b"])

    def add(pairing, month, due, done_on=None):
        with at(month):
            task = services.liaison_task_save(actor=bureau, pairing=pairing, month=month, item="走访", due_date=due)
        if done_on is not None:
            with at(done_on):
                services.liaison_task_save(actor=bureau, pairing=pairing, task=task, status="done")
        return task

    add(a, date(2026, 1, 1), date(2026, 1, 20), date(2026, 1, 18))  # on time
    add(a, date(2026, 2, 1), date(2026, 2, 20), date(2026, 2, 25))  # late
    add(a, date(2026, 3, 1), date(2026, 3, 20))  # never done
    add(b, date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))  # on time, on the day
    add(b, date(2026, 5, 1), date(2026, 5, 20))  # not yet due
    add(b, date(2026, 5, 1), date(2026, 5, 10), date(2026, 5, 9))  # on time
    with at(date(2026, 4, 1)):
        services.pairing_save(actor=bureau, pairing=a, department="优抚科", street=tree["street_a"], is_active=False)
    with at(TODAY):
        yield


@pytest.mark.parametrize("key", ["2026-Q1", "2026-Q2", "2026-02", "2026", "2020-Q1"])
def test_items_on_time_match_a_direct_count(tree, items, key):
    period = figures.Period.parse(key)
    rows = []
    for task in LiaisonTask.objects.select_related("pairing"):
        if period.start <= task.due_date <= period.end and (task.status == "done" or task.due_date < TODAY):
            rows.append((task.pairing.street_id, "", int(task.status == "done" and task.completed_on <= task.due_date), 1))
    found = assert_figure(tree, "liaison.items_on_time", period, rows, ratio=True)
    if key == "2026-Q1":
        assert (found["district"].value, found["district"].base) == (2, 4)
        assert (found["street_a"].value, found["street_a"].base) == (1, 3)


def test_items_are_not_split_below_the_street(tree, items):
    period = figures.Period.parse("2026-Q1")
    reading = figures.read(["liaison.items_on_time"], [period], [tree["village_a1"].pk])
    assert reading[("liaison.items_on_time", period.key, tree["village_a1"].pk)].value == 0
    assert not figures.get("liaison.items_on_time").splits_by("community")


def test_link_opens_for_a_user_in_scope(client, tree, users, items):
    for user_name, unit_name in (("leader", "district"), ("street_a", "street_a")):
        login(client, users[user_name])
        url = figures.get("liaison.items_on_time").url(tree[unit_name], figures.Period.parse("2026-Q1"), "")
        assert client.get(url).status_code == 200
