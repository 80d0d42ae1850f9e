"""Lost updates on the liaison pages (issue 10, finding 19; moved from tests/care/test_concurrency.py):
two people open the same pairing or item form; the first save wins, the second is refused with what changed."""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import reverse

from apps.liaison import services
from apps.liaison.models import LiaisonTask
from tests.conftest import login
from tests.versions import form_fields


def _two(users, who_one: str, who_two: str, url: str):
    first, second = Client(), Client()
    login(first, users[who_one])
    login(second, users[who_two])
    return first, second, form_fields(first.get(url).content.decode()), form_fields(second.get(url).content.decode())


def test_stale_liaison_pairing_and_item_forms_are_refused(users, tree):
    pairing = services.pairing_save(actor=users["bureau"], department="优抚科", street=tree["street_a"],
                                    members=[users["bureau"]])
    month = date.today().replace(day=1)
    task = services.liaison_task_save(actor=users["bureau"], pairing=pairing, month=month, item="走访",
                                      due_date=month.replace(day=20))
    url = reverse("liaison:task_edit", args=[task.pk])
    first, second, one, two = _two(users, "street_a", "bureau", url)
    one.update(status="done", feedback="已完成")
    assert first.post(url, one).status_code == 302
    two["item"] = "走访重点优抚对象"
    response = second.post(url, two)
    assert response.status_code == 200 and "已完成" in response.content.decode()
    task = LiaisonTask.objects.get(pk=task.pk)
    assert (task.status, task.feedback, task.item) == ("done", "已完成", "走访")

    url = reverse("liaison:pairing_edit", args=[pairing.pk])
    first, second, one, two = _two(users, "bureau", "bureau", url)
    one["department"] = "安置科"
    assert first.post(url, one).status_code == 302
    two.pop("is_active", None)
    response = second.post(url, two)
    assert response.status_code == 200 and "安置科" in response.content.decode()
    pairing.refresh_from_db()
    assert pairing.is_active and pairing.department == "安置科"
