"""The parts of a record: care categories, the 优待证 and its events, documents."""

import re
from datetime import date
from html import unescape
from urllib.parse import unquote

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.core.choices import AccessAction
from apps.core.models import AccessLog
from apps.registry import services
from apps.registry.choices import CardStatus
from apps.registry.models import Code
from tests.conftest import login
from tests.registry.factories import jpeg_bytes, make_veteran


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
    scan = jpeg_bytes()
    response = client.post(reverse("registry:attachment_create", args=[veteran.pk]),
                           {"kind": "id_card", "file": SimpleUploadedFile("身份证.jpg", scan, "image/jpeg")})
    assert response.status_code == 302
    attachment = veteran.attachments.get()
    url = reverse("registry:attachment_download", args=[veteran.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == scan
    assert AccessLog.objects.filter(action="download", object_id=str(veteran.pk)).count() == 1
    login(client, users["village_a2"])
    assert client.get(url).status_code == 404


def test_who_viewed_the_record_is_shown_fifty_at_a_time_newest_first(client, tree, users):
    """The "viewed or exported by" tab of a much-read record: fifty entries, then "show older entries" fetches
    the next fifty after the last one shown, until none are left; nothing is shown twice or skipped."""
    veteran = make_veteran(tree["village_a1"], name="常看")
    other = make_veteran(tree["village_a1"], name="别人")
    kind = ContentType.objects.get_for_model(veteran)
    same_moment = timezone.now() - timezone.timedelta(days=1)
    entries = AccessLog.objects.bulk_create(
        [AccessLog(user=users["village_a1"], action=AccessAction.VIEW, content_type=kind, object_id=str(veteran.pk),
                   object_repr=str(i)) for i in range(120)]
        + [AccessLog(user=users["village_a1"], action=AccessAction.VIEW, content_type=kind, object_id=str(other.pk))])
    # Twenty entries share one moment and sixty another (as a batch writes them): the cursor must not skip or
    # repeat any of them.
    AccessLog.objects.filter(pk__in=[e.pk for e in entries[40:60]]).update(created_at=same_moment)
    AccessLog.objects.filter(pk__in=[e.pk for e in entries[60:120]]).update(created_at=same_moment - timezone.timedelta(hours=1))
    expected = list(AccessLog.objects.filter(object_id=str(veteran.pk), content_type=kind)
                    .order_by("-created_at", "-id").values_list("pk", flat=True))
    login(client, users["village_a1"])
    url = reverse("registry:veteran_detail", args=[veteran.pk])
    page = client.get(url, {"tab": "access"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    seen = [e.pk for e in page.context["access"]]
    html = page.content.decode()
    while (button := re.search(r'hx-get="[^"]*before=([^"]+)"', html)):
        older = client.get(url, {"tab": "access", "before": unquote(unescape(button.group(1)))}, HTTP_HX_REQUEST="true")
        assert older.status_code == 200 and "<table" not in older.content.decode()  # rows only, appended
        seen += [e.pk for e in older.context["access"]]
        html = older.content.decode()
    assert seen == expected and len(seen) == 120
    assert "Show older entries" not in html and "显示更早的记录" not in html
