"""The parts of a record: care categories, the 优待证 and its events, documents."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.core.models import AccessLog
from apps.registry import services
from apps.registry.choices import CardStatus
from apps.registry.models import Code
from tests.conftest import login
from tests.registry.factories import make_veteran


def care(name):
    return Code.objects.get(kind="care_category", name=name)


def test_a_disability_needs_grade_and_nature(tree):
    veteran = make_veteran(tree["village_a1"])
    with pytest.raises(ValidationError) as exc:
        services.care_entitlement_save(actor=None, veteran=veteran, category=care("残疾军人"))
    assert {"disability_grade", "disability_nature"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        services.care_entitlement_save(actor=None, veteran=veteran, category=care("残疾军人"), disability_grade=11,
                                       disability_nature="war")
    saved = services.care_entitlement_save(actor=None, veteran=veteran, category=care("残疾军人"),
                                           disability_grade=6, disability_nature="war")
    assert saved.pk and veteran.care.count() == 1


def test_card_events_drive_the_card_status(tree, users):
    veteran = make_veteran(tree["village_a1"])
    card = services.card_create(actor=users["village_a1"], veteran=veteran, card_type="veteran")
    assert card.status == CardStatus.FILED
    with pytest.raises(ValidationError):
        services.card_create(actor=users["village_a1"], veteran=veteran, card_type="veteran")
    for kind in ("apply", "approve", "produce"):
        services.card_event_record(actor=users["village_a1"], card=card, kind=kind, on=date.today())
    services.card_event_record(actor=users["village_a1"], card=card, kind="issue", on=date.today(), number="YD0001")
    card.refresh_from_db()
    assert (card.status, card.number, card.issued_on) == (CardStatus.ISSUED, "YD0001", date.today())
    services.card_event_record(actor=users["village_a1"], card=card, kind="loss", on=date.today())
    card.refresh_from_db()
    assert card.status == CardStatus.LOST
    assert card.lifecycle.count() == 5


def test_documents_are_checked_scoped_and_their_downloads_logged(client, tree, users):
    veteran = make_veteran(tree["village_a1"])
    with pytest.raises(ValidationError):
        services.attachment_add(actor=users["village_a1"], veteran=veteran, kind="other",
                                upload=SimpleUploadedFile("virus.exe", b"MZ", "application/octet-stream"))
    login(client, users["village_a1"])
    response = client.post(reverse("registry:attachment_create", args=[veteran.pk]),
                           {"kind": "id_card", "file": SimpleUploadedFile("身份证.jpg", b"\xff\xd8jpeg", "image/jpeg")})
    assert response.status_code == 302
    attachment = veteran.attachments.get()
    url = reverse("registry:attachment_download", args=[veteran.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xff\xd8jpeg"
    assert AccessLog.objects.filter(action="download", object_id=str(veteran.pk)).count() == 1
    login(client, users["village_a2"])
    assert client.get(url).status_code == 404
