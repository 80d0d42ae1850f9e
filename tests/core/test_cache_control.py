"""Shared station PCs: nothing a signed-in user is shown may stay in the browser's or a proxy's cache
(issue 10, finding 12). Every answer to a signed-in user carries ``Cache-Control: no-store``."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.care import services as care_services
from apps.care.models import Occasion
from tests.care.helpers_pages import ensure_care_seed, png_bytes
from tests.conftest import login
from tests.core.test_jobs import make_job
from tests.registry.factories import make_veteran


def assert_no_store(response) -> None:
    assert response.status_code == 200
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")


def test_a_person_page_and_its_tabs_are_not_stored(client, users, tree):
    veteran = make_veteran(tree["village_a1"], name="张伟")
    login(client, users["village_a1"])
    assert_no_store(client.get(reverse("registry:veteran_detail", args=[veteran.pk])))
    assert_no_store(client.get(reverse("registry:veteran_detail", args=[veteran.pk]), {"tab": "family"},
                               HTTP_HX_REQUEST="true"))
    assert_no_store(client.get(reverse("registry:veteran_list")))


def test_exports_and_downloads_are_not_stored(client, users, tree):
    make_veteran(tree["village_a1"], name="张伟")
    login(client, users["village_a1"])
    response = client.post(reverse("registry:veteran_export"), {"reason": ""})
    assert "attachment" in response["Content-Disposition"]
    assert_no_store(response)
    job = make_job(users["village_a1"])
    assert_no_store(client.get(reverse("jobs:job_download", args=[job.pk])))


def test_a_visit_photo_is_not_stored(client, users, tree):
    ensure_care_seed()
    person = make_veteran(tree["village_a1"], name="走访对象")
    visit = care_services.visit_log(actor=None, veteran=person, occasion=Occasion.objects.get(code="contact"),
                                    date=timezone.localdate(), visitors="专干",
                                    photos=[SimpleUploadedFile("合影.png", png_bytes(), "image/png")])
    login(client, users["village_a1"])
    assert_no_store(client.get(reverse("care:visit_photo", args=[visit.pk, visit.photos.get().pk])))
    assert_no_store(client.get(reverse("care:visit_detail", args=[visit.pk])))


def test_api_answers_to_a_signed_in_user_are_not_stored(client, users, tree):
    make_veteran(tree["village_a1"], name="张伟")
    login(client, users["village_a1"])
    assert_no_store(client.get("/api/v1/veterans/"))


def test_static_assets_stay_cacheable(client, users):
    login(client, users["village_a1"])
    assert "no-store" not in client.get("/static/css/portal.css").get("Cache-Control", "")
