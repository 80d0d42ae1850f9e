"""Registry rows of the permission matrix (see tests/permissions.py). Records belong to village A1."""

from __future__ import annotations

import importlib
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.registry import services
from apps.registry.models import Code
from tests.permissions import A1_OUT_OF_SCOPE, A1_SCOPE, DISTRICT, MANAGERS, REDIRECT, STATIONS, Route
from tests.registry.factories import id_number, make_veteran

VIEWERS = DISTRICT | STATIONS | MANAGERS  # registry.view_veteran
KEEPERS = VIEWERS - {"leader"}  # add/change/transfer/reveal: leadership only reads
A1_KEEPERS = A1_SCOPE - {"leader"}


def veteran_pk(objs):
    return {"pk": objs["veteran"].pk}


def objects(users, tree) -> dict:
    veteran = make_veteran(tree["village_a1"], name="甲一老兵")
    member = services.family_member_save(actor=None, veteran=veteran, name="甲一家属", id_number=id_number("19820202"))
    care = services.care_entitlement_save(actor=None, veteran=veteran,
                                          category=Code.objects.get(kind="care_category", name="参战退役人员"))
    card = services.card_create(actor=None, veteran=veteran, card_type="veteran")
    attachment = services.attachment_add(actor=None, veteran=veteran, kind="other",
                                         upload=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 test", "application/pdf"))
    return {"veteran": veteran, "family_member": member, "care": care, "card": card, "attachment": attachment}


def part(key):
    return lambda objs: {"pk": objs["veteran"].pk, "part_pk": objs[key].pk}


ROUTES = [
    Route("registry:veteran_list", ok=VIEWERS),
    # A search by full ID number is posted, then listed under a token (303 to the list).
    Route("registry:veteran_search", "post", data=lambda objs, who: {"q": objs["veteran"].id_number}, ok=VIEWERS,
          ok_status=303),
    Route("registry:veteran_create", ok=KEEPERS),
    Route("registry:veteran_detail", kwargs=veteran_pk, ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    Route("registry:veteran_edit", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:veteran_transfer", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:veteran_close", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:veteran_restore", "post", kwargs=veteran_pk, ok=A1_KEEPERS, ok_status=REDIRECT,
          not_found=A1_OUT_OF_SCOPE),
    Route("registry:veteran_reveal", "post", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:family_create", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:family_edit", kwargs=part("family_member"), ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:care_create", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:care_edit", kwargs=part("care"), ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:card_create", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:card_event", kwargs=part("card"), ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:attachment_create", kwargs=veteran_pk, ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("registry:attachment_download", kwargs=part("attachment"), ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
]

# Rows of the import, export and API work live beside this file as matrix_<part>.py.
_PARTS = [importlib.import_module(f"tests.registry.{p.stem}")
          for p in sorted(Path(__file__).parent.glob("matrix_*.py"))]
for _part in _PARTS:
    ROUTES.extend(_part.ROUTES)
_base_objects = objects


def objects(users, tree) -> dict:  # noqa: F811 - extended with the parts' records
    objs = _base_objects(users, tree)
    for part in _PARTS:
        if hasattr(part, "objects"):
            objs.update(part.objects(users, tree))
    return objs
