"""Everything about a person follows the unit responsible for the person (issue 10, finding 4): after a
transfer the new station opens the person's visits (content, needs, photos), life events, tasks, plaques,
merit notices and their signed photos, and the old station gets 404 on every one of them."""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from apps.care import services
from apps.care.choices import TaskStatus, VisitMode
from apps.care.models import DueVisit, LifeEvent, Occasion, Visit
from apps.honors.models import MeritNotice, PlaqueRecord
from apps.registry import services as registry_services
from tests.care.helpers_pages import ensure_care_seed, make_task, png_bytes
from tests.conftest import login
from tests.honors.factories import days_ago, deliver, make_notice, make_plaque
from tests.registry.factories import make_veteran


@pytest.fixture
def moved(tree, users, roles, django_capture_on_commit_callbacks):
    """A person of village A1 with one of everything, then transferred to village B1 (another street)."""
    ensure_care_seed()
    person = make_veteran(tree["village_a1"], name="迁移老兵")
    actor = users["village_a1"]
    task = make_task(person, due=days_ago(-5))
    visit = services.visit_log(actor=actor, veteran=person, occasion=Occasion.objects.get(code="contact"),
                               date=days_ago(1), visitors="王专干", mode=VisitMode.HOME, task=task,
                               content="谈心谈话内容", needs="需要轮椅",
                               photos=[SimpleUploadedFile("p.png", png_bytes(), "image/png")])
    event = services.life_event_record(actor=actor, veteran=person, occasion=Occasion.objects.get(code="hardship"),
                                       date=days_ago(2), description="家中失火")
    open_task = make_task(person, due=days_ago(-20), level=1)
    plaque = make_plaque(person, actor=actor)
    delivered = deliver(make_notice(person, actor=actor, member_name="甲兵"), actor=actor)
    waiting = make_notice(person, actor=actor, member_name="乙兵")
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.veteran_transfer(actor=actor, veteran=person, to_unit=tree["village_b1"], on=days_ago(0))
    return {"person": person, "visit": visit, "photo": visit.photos.get(), "event": event, "done_task": task,
            "open_task": open_task, "plaque": plaque, "delivered": delivered, "waiting": waiting}


def pages(records) -> dict[str, str]:
    visit, photo = records["visit"], records["photo"]
    return {
        "visit": reverse("care:visit_detail", args=[visit.pk]),
        "visit photo": reverse("care:visit_photo", args=[visit.pk, photo.pk]),
        "plaque": reverse("honors:plaque_detail", args=[records["plaque"].pk]),
        "plaque signature": reverse("honors:plaque_photo", args=[records["plaque"].pk]),
        "delivered notice": reverse("honors:notice_detail", args=[records["delivered"].pk]),
        "notice signature": reverse("honors:notice_photo", args=[records["delivered"].pk]),
        "waiting notice": reverse("honors:notice_detail", args=[records["waiting"].pk]),
        "deliver": reverse("honors:notice_deliver", args=[records["waiting"].pk]),
        "log from task": reverse("care:visit_create_for_task", args=[records["open_task"].pk]),
    }


@pytest.mark.django_db
def test_every_record_moves_with_the_person_in_the_transfer(moved, tree):
    unit = tree["village_b1"]
    person = moved["person"]
    assert set(Visit.objects.filter(veteran=person).values_list("org_unit", flat=True)) == {unit.pk}
    assert set(LifeEvent.objects.filter(veteran=person).values_list("org_unit", flat=True)) == {unit.pk}
    assert set(DueVisit.objects.filter(veteran=person).values_list("org_unit", flat=True)) == {unit.pk}
    assert set(PlaqueRecord.objects.filter(veteran=person).values_list("org_unit", flat=True)) == {unit.pk}
    assert set(MeritNotice.objects.filter(veteran=person).values_list("org_unit", flat=True)) == {unit.pk}
    done = DueVisit.objects.get(pk=moved["done_task"].pk)
    assert done.status == TaskStatus.DONE and done.visit_id == moved["visit"].pk
    still_open = DueVisit.objects.get(pk=moved["open_task"].pk)
    assert still_open.level == 0  # starts again at the new station


@pytest.mark.django_db
def test_old_station_gets_404_and_new_station_opens_everything(moved, client, users):
    urls = pages(moved)
    for old in ("village_a1", "street_a"):
        client.logout()
        login(client, users[old])
        for name, url in urls.items():
            assert client.get(url).status_code == 404, (old, name)
    for name in ("village_b1", "street_b"):
        client.logout()
        login(client, users[name])
        for what, url in urls.items():
            response = client.get(url)
            assert response.status_code in (200, 302), (name, what, response.status_code)
            if what == "deliver" or what == "log from task":
                assert response.status_code == 200, (name, what)
        detail = client.get(urls["visit"]).content.decode()
        assert "谈心谈话内容" in detail and "需要轮椅" in detail
        photo = client.get(urls["visit photo"])
        assert b"".join(photo.streaming_content).startswith(b"\x89PNG")


@pytest.mark.django_db
def test_person_tabs_history_and_worklist_follow(moved, client, users):
    person = moved["person"]
    login(client, users["village_b1"])
    care_tab = client.get(reverse("registry:veteran_detail", args=[person.pk]), {"tab": "visits"}).content.decode()
    assert moved["visit"].get_absolute_url() in care_tab and "家中失火" in care_tab
    honours = client.get(reverse("registry:veteran_detail", args=[person.pk]), {"tab": "honors"}).content.decode()
    assert moved["plaque"].get_absolute_url() in honours and moved["waiting"].get_absolute_url() in honours
    history = client.get(reverse("registry:veteran_detail", args=[person.pk]), {"tab": "history"}).content.decode()
    links = set(re.findall(r'href="(/(?:care|honors)/[^"]+)"', history))
    assert {moved["visit"].get_absolute_url(), moved["plaque"].get_absolute_url(),
            moved["delivered"].get_absolute_url()} <= links
    for link in links:
        assert client.get(link).status_code == 200, link
    done = client.get(reverse("care:worklist"), {"view": "done"}).content.decode()
    assert f'data-task="{moved["done_task"].pk}"' in done
    client.logout()
    login(client, users["village_a1"])
    done = client.get(reverse("care:worklist"), {"view": "done"}).content.decode()
    assert f'data-task="{moved["done_task"].pk}"' not in done


@pytest.mark.django_db
def test_a_transfer_out_of_the_district_leaves_records_with_the_unit(tree, users, roles):
    ensure_care_seed()
    person = make_veteran(tree["village_a1"])
    visit = services.visit_log(actor=users["village_a1"], veteran=person, occasion=Occasion.objects.get(code="other"),
                               date=days_ago(1), visitors="王专干")
    registry_services.veteran_transfer(actor=users["village_a1"], veteran=person, to_unit=None, on=days_ago(0),
                                       destination="外省")
    visit.refresh_from_db()
    assert visit.org_unit == tree["village_a1"]


@pytest.mark.django_db(transaction=True)
def test_a_visit_logged_while_a_transfer_commits_follows_it(tree, users, roles):
    """A visit written while another connection transfers the person (the person row locked FOR UPDATE) waits
    for it and lands at the new unit, instead of at the unit read when the page was opened."""
    ensure_care_seed()
    person = make_veteran(tree["village_a1"])
    other = psycopg.connect(**connection.get_connection_params())
    try:
        other.execute("SELECT 1 FROM registry_veteran WHERE id = %s FOR UPDATE", [person.pk])
        other.execute("UPDATE registry_veteran SET org_unit_id = %s WHERE id = %s", [tree["village_b1"].pk, person.pk])
        committer = threading.Timer(1.0, other.commit)
        committer.start()
        started = time.monotonic()
        visit = services.visit_log(actor=users["village_a1"], veteran=person,  # holds the old unit in memory
                                   occasion=Occasion.objects.get(code="other"), date=days_ago(0), visitors="王专干")
        committer.join()
    finally:
        other.close()
    assert time.monotonic() - started >= 0.5  # it waited for the transfer
    assert Visit.objects.get(pk=visit.pk).org_unit_id == tree["village_b1"].pk
