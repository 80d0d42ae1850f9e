"""Many-to-many changes are history too (issue 10, finding 29): who added or removed a person's categories and
tags, and a rule's selectors, and when; shown on the person's history tab and on the rule's page."""

from __future__ import annotations

from django.apps import apps
from django.urls import reverse

from apps.care.models import VisitRule
from apps.registry import services
from apps.registry.models import Code, Veteran
from tests.care.helpers_pages import contact_rule
from tests.conftest import login
from tests.registry.factories import make_veteran
from tests.versions import form_fields


def test_tag_and_category_changes_are_recorded_with_who_and_shown(client, tree, users):
    tags = list(Code.objects.filter(kind="tag").order_by("pk")[:2])
    extra = Code.objects.filter(kind="category").exclude(name="退役士兵").first()
    veteran = make_veteran(tree["village_a1"], tags=[tags[0]])
    login(client, users["village_a1"])
    url = reverse("registry:veteran_edit", args=[veteran.pk])
    data = form_fields(client.get(url).content.decode())
    data["tags"] = [str(tags[1].pk)]
    data["categories"] = [str(extra.pk)]
    assert client.post(url, data).status_code == 302

    event_model = apps.get_model("registry", "VeteranTagsEvent")
    events = {(e.pgh_label, e.code_id) for e in event_model.objects.filter(veteran_id=veteran.pk)}
    assert {("tags.add", tags[0].pk), ("tags.remove", tags[0].pk), ("tags.add", tags[1].pk)} <= events
    page = client.get(reverse("registry:veteran_detail", args=[veteran.pk]), {"tab": "history"}).content.decode()
    table = page[page.index('id="set-changes"'):]
    table = table[:table.index("</table>")]
    row = next(r for r in table.split("<tr>") if tags[1].name in r)
    assert str(users["village_a1"]) in row and tags[0].name in row  # who, added, removed
    assert extra.name in table


def test_changes_made_outside_a_request_are_recorded_too(tree):
    tag = Code.objects.filter(kind="tag").first()
    veteran = make_veteran(tree["village_a1"])
    services.veteran_update(actor=None, veteran=Veteran.objects.get(pk=veteran.pk), tags=[tag])
    Veteran.tags.through.objects.filter(veteran_id=veteran.pk).delete()  # a bulk delete (an import's replace)
    labels = [e.pgh_label for e in apps.get_model("registry", "VeteranTagsEvent").objects
              .filter(veteran_id=veteran.pk).order_by("pgh_id")]
    assert labels == ["tags.add", "tags.remove"]


def test_rule_selector_changes_are_shown_on_the_rule_page(client, tree, users):
    rule = contact_rule()
    login(client, users["admin"])
    url = reverse("care:rule_edit", args=[rule.pk])
    data = form_fields(client.get(url).content.decode())
    data["org_units"] = [str(tree["street_b"].pk)]
    assert client.post(url, data).status_code == 302
    assert list(VisitRule.objects.get(pk=rule.pk).org_units.all()) == [tree["street_b"]]
    page = client.get(url).content.decode()
    history = page[page.index('id="rule-history"'):]
    row = next(r for r in history.split("<tr>") if tree["street_b"].name in r)
    assert str(users["admin"]) in row
