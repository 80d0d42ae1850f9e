"""Lost updates on the care pages (issue 10, finding 19): visit rules and occasions
(机关驻街's pairings and items: tests/liaison/test_concurrency.py).
Two people open the same form; the first save wins, the second is refused with what changed."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from apps.care.models import Occasion, VisitRule
from tests.care.helpers_pages import contact_rule
from tests.conftest import login
from tests.versions import form_fields


def _two(users, who_one: str, who_two: str, url: str):
    first, second = Client(), Client()
    login(first, users[who_one])
    login(second, users[who_two])
    return first, second, form_fields(first.get(url).content.decode()), form_fields(second.get(url).content.decode())


def test_stale_rule_form_is_refused_selectors_included(users, tree):
    rule = contact_rule()
    url = reverse("care:rule_edit", args=[rule.pk])
    first, second, one, two = _two(users, "admin", "admin", url)
    one["org_units"] = [str(tree["street_a"].pk)]
    one["escalate_street_days"] = "9"
    assert first.post(url, one).status_code == 302
    two["name"] = "改名的规则"
    response = second.post(url, two)
    assert response.status_code == 200
    page = response.content.decode()
    assert "他人" in page and tree["street_a"].name in page
    rule = VisitRule.objects.get(pk=rule.pk)
    assert rule.escalate_street_days == 9 and list(rule.org_units.all()) == [tree["street_a"]]
    assert rule.name != "改名的规则"


def test_stale_occasion_form_is_refused(users):
    occasion = Occasion.objects.get(code="other")
    url = reverse("care:occasion_edit", args=[occasion.pk])
    first, second, one, two = _two(users, "admin", "admin", url)
    one["name"] = "其他慰问甲"
    assert first.post(url, one).status_code == 302
    two["sort_order"] = "77"
    response = second.post(url, two)
    assert response.status_code == 200 and "其他慰问甲" in response.content.decode()
    occasion.refresh_from_db()
    assert occasion.name == "其他慰问甲" and occasion.sort_order != 77
