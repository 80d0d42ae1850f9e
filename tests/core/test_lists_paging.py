"""Keyset paging of the register page (``apps.core.lists.paging``): a cursor that does not fit gives the first page.

Issue 10 finding 10: a cursor kept from one sort order and replayed under another was read as the other
order's values (a pinyin name as a birth date) and answered 500.
"""

from __future__ import annotations

import pytest
from django.core import signing
from django.urls import reverse

from apps.core.lists.paging import SALT
from apps.registry.views.records import VeteranListView
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran

pytestmark = pytest.mark.django_db

LIST = reverse("registry:veteran_list")


@pytest.fixture
def seven(tree, monkeypatch):
    monkeypatch.setattr(VeteranListView, "page_size", 3)
    return [make_veteran(tree["village_a1"], name=f"测试{i}", id_number=id_number(f"19{60 + i}0101", sequence=11 + 2 * i))
            for i in range(7)]


def page_of(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == 200, response.status_code
    return response.context["page"]


ORDERS = [("name", "birth"), ("birth", "name"), ("-id", "birth"), ("name", "-id"), ("-birth", "id"), ("id", "-name")]


def test_a_cursor_replayed_under_another_order_gives_the_first_page(client, users, seven):
    login(client, users["village_a1"])
    for made_under, replayed_under in ORDERS:
        cursor = page_of(client, ordering=made_under).next_cursor
        assert cursor
        first = page_of(client, ordering=replayed_under)
        for direction in ("after", "before"):
            page = page_of(client, ordering=replayed_under, **{direction: cursor})
            assert page.is_first, (made_under, replayed_under, direction)
            assert [v.pk for v in page.rows] == [v.pk for v in first.rows]
        # Under its own order the cursor still gives the next page.
        own_first = page_of(client, ordering=made_under)
        assert not {v.pk for v in page_of(client, ordering=made_under, after=cursor).rows} & {
            v.pk for v in own_first.rows}


DAMAGED = [
    "garbage", "a" * 300, "\x00",
    signing.dumps(["zhang", 5], salt=SALT),  # an old-style cursor (values only)
    signing.dumps({"o": ["-birth_date", "-id"], "v": ["zhang", 5]}, salt=SALT),  # values that do not fit
    signing.dumps({"o": ["-birth_date", "-id"], "v": ["1970-01-01"]}, salt=SALT),  # too few values
    signing.dumps({"o": ["-birth_date", "-id"], "v": {"a": 1}}, salt=SALT),
    signing.dumps("text", salt=SALT),
]


def test_a_damaged_cursor_gives_the_first_page(client, users, seven):
    login(client, users["village_a1"])
    first = [v.pk for v in page_of(client, ordering="-birth").rows]
    for cursor in DAMAGED:
        for direction in ("after", "before"):
            assert [v.pk for v in page_of(client, ordering="-birth", **{direction: cursor}).rows] == first, cursor


def test_non_numeric_filters_on_the_page_are_not_a_500(client, users, seven):
    login(client, users["village_a1"])
    for params in ({"unit": "abc"}, {"unit": "1.5"}, {"category": "x"}, {"tag": "-1"}, {"age": "x"},
                   {"ordering": "nonsense"}, {"unit": "abc", "after": "x"}):
        response = client.get(LIST, params)
        assert response.status_code == 200, params
