"""Visit photos: judged by their content whoever calls the service, stored under random names like the
signed photos of the honours registers (issue 10, finding 15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.care import services
from apps.care.models import Occasion, Visit
from tests.care.helpers_pages import ensure_care_seed, png_bytes
from tests.registry.factories import jpeg_bytes, make_veteran


@pytest.fixture
def person(tree):
    ensure_care_seed()
    return make_veteran(tree["village_a1"], name="张伟")


def log(person, photos):
    return services.visit_log(actor=None, veteran=person, occasion=Occasion.objects.get(code="contact"),
                              date=timezone.localdate(), visitors="专干", photos=photos)


def test_visit_photos_are_stored_under_random_names(person):
    visit = log(person, [SimpleUploadedFile("张伟家门口.jpg", jpeg_bytes(), "image/jpeg"),
                         SimpleUploadedFile("张伟与慰问人员.PNG", png_bytes(), "image/png")])
    names = sorted(Path(photo.file.name).name for photo in visit.photos.all())
    assert len(names) == 2
    for name in names:
        assert re.fullmatch(r"[0-9a-f]{32}\.(jpg|png)", name), name
    assert "张伟" not in "".join(photo.file.name for photo in visit.photos.all())


@pytest.mark.parametrize("content", [b"<svg onload=alert(1)>", b"\xff\xd8 not a jpeg", b"%PDF-1.4\n%%EOF"])
def test_a_photo_is_judged_by_its_content_not_its_name(person, content):
    with pytest.raises(ValidationError) as caught:
        log(person, [SimpleUploadedFile("照片.jpg", content, "image/jpeg")])
    assert "photos" in caught.value.message_dict
    assert not Visit.objects.exists()
