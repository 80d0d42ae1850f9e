"""Every write of the honours registers. Honours builds on care: a plaque hanging and a notice delivery are
visits (走访), and a registered notice is a life event whose rule (立功喜报7日内送达) gives the station a due visit."""

from __future__ import annotations

import os
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from apps.care import services as care
from apps.care.choices import VisitMode
from apps.care.models import DueVisit, Occasion
from apps.core.models import User
from apps.registry.choices import VeteranStatus
from apps.registry.models import Veteran

from .choices import MeritAward, PlaqueAction, PlaqueKind
from .models import MeritNotice, PlaqueRecord

PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png"}
PHOTO_FORMATS = {"JPEG", "PNG"}
PHOTO_MAX_BYTES = 8 * 1024 * 1024

OCCASION_PLAQUE = "plaque"
OCCASION_MERIT_NOTICE = "merit_notice"
OCCASION_MERIT_DELIVERY = "merit_delivery"


# --- checks ---------------------------------------------------------------------------------------


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def check_date(day: date | None, veteran: Veteran, field: str) -> None:
    if day is None:
        raise ValidationError({field: _("Give the date.")})
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    if day < veteran.birth_date:
        raise ValidationError({field: _("The date is before the person's birth.")})


def check_on_register(veteran: Veteran) -> None:
    if veteran.status != VeteranStatus.ACTIVE:
        raise ValidationError(_("This record is closed; restore it to the register first."))


def check_photo(upload, field: str = "signature") -> None:
    """A photo of the signed register: JPG or PNG (by name and by content), at most 8 MB."""
    if not upload:
        raise ValidationError({field: _("Upload a photo of the signed register.")})
    extension = os.path.splitext(getattr(upload, "name", "") or "")[1].lower()
    if extension not in PHOTO_EXTENSIONS:
        raise ValidationError({field: _("The signature photo must be a JPG or PNG file.")})
    if (getattr(upload, "size", 0) or 0) > PHOTO_MAX_BYTES:
        raise ValidationError({field: _("The signature photo may be at most 8 MB.")})
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError({field: _("This file is not a readable JPG or PNG image.")}) from exc
    finally:
        upload.seek(0)
    if kind not in PHOTO_FORMATS:
        raise ValidationError({field: _("The signature photo must be a JPG or PNG file.")})


def _required_text(value: str | None, field: str, message: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError({field: message})
    return text


def _care_errors(exc: ValidationError, renames: dict[str, str]) -> ValidationError:
    """A care service's error, with its field names turned into ours (visitors → people…)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({renames.get(field, field): errors for field, errors in exc.error_dict.items()})


# --- 光荣牌 ------------------------------------------------------------------------------------------


def plaque_record(*, actor: User | None, veteran: Veteran, action: str, date: date, people: str, signature,
                  kind: str = PlaqueKind.GLORY_HOME, note: str = "") -> PlaqueRecord:
    """光荣牌: record a hanging or replacement, signed by the family. It is also a home visit, logged in care
    (occasion 悬挂光荣牌), which closes any plaque visit the station had due."""
    check_on_register(veteran)
    errors: dict[str, str] = {}
    if action not in PlaqueAction.values:
        errors["action"] = _("Choose hung or replaced.")
    if kind not in PlaqueKind.values:
        errors["kind"] = _("Choose the plaque.")
    if errors:
        raise ValidationError(errors)
    check_date(date, veteran, "date")
    people = _required_text(people, "people", _("Name the people present."))
    check_photo(signature)
    occasion = Occasion.objects.get(code=OCCASION_PLAQUE)
    with transaction.atomic():
        try:
            visit = care.visit_log(actor=actor, veteran=veteran, occasion=occasion, date=date, visitors=people,
                                   mode=VisitMode.HOME, content=_("%(action)s: %(plaque)s") % {
                                       "action": PlaqueAction(action).label, "plaque": PlaqueKind(kind).label})
        except ValidationError as exc:
            raise _care_errors(exc, {"visitors": "people"}) from exc
        record = PlaqueRecord(veteran=veteran, org_unit_id=visit.org_unit_id, action=action, kind=kind, date=date,
                              people=people, signature=signature, note=(note or "").strip(), visit=visit,
                              created_by=_actor(actor))
        record.full_clean(exclude=["created_by", "visit", "signature"])
        record.save()
    return record


# --- 立功喜报 ----------------------------------------------------------------------------------------


def merit_notice_register(*, actor: User | None, veteran: Veteran, member_name: str, award: str, notice_date: date,
                          note: str = "") -> MeritNotice:
    """Register a notice received for a serving member. It is a life event in care, so the rule
    立功喜报7日内送达 gives the responsible station a due home visit to deliver it."""
    check_on_register(veteran)
    member_name = _required_text(member_name, "member_name", _("Give the serving member's name."))
    if award not in MeritAward.values:
        raise ValidationError({"award": _("Choose the award.")})
    check_date(notice_date, veteran, "notice_date")
    occasion = Occasion.objects.get(code=OCCASION_MERIT_NOTICE)
    with transaction.atomic():
        try:
            event = care.life_event_record(actor=actor, veteran=veteran, occasion=occasion, date=notice_date,
                                           description=_("Merit notice: %(member)s, %(award)s") % {
                                               "member": member_name, "award": MeritAward(award).label})
        except ValidationError as exc:
            raise _care_errors(exc, {"date": "notice_date"}) from exc
        notice = MeritNotice(veteran=veteran, org_unit_id=event.org_unit_id, member_name=member_name, award=award,
                             notice_date=notice_date, note=(note or "").strip(), life_event=event,
                             created_by=_actor(actor))
        notice.full_clean(exclude=["created_by", "life_event", "signature"])
        notice.save()
    return notice


def merit_notice_deliver(*, actor: User | None, notice: MeritNotice, delivered_on: date, deliverers: str, signature,
                         note: str = "") -> MeritNotice:
    """送喜报: record the delivery to the family, signed, and log it as the home visit that closes the due visit."""
    deliverers = _required_text(deliverers, "deliverers", _("Name who delivered the notice."))
    check_photo(signature)
    occasion = Occasion.objects.get(code=OCCASION_MERIT_DELIVERY)
    with transaction.atomic():
        notice = MeritNotice.objects.select_for_update().select_related("veteran").get(pk=notice.pk)
        if notice.is_delivered:
            raise ValidationError(_("This notice has already been delivered."))
        veteran = notice.veteran
        check_on_register(veteran)
        check_date(delivered_on, veteran, "delivered_on")
        if delivered_on < notice.notice_date:
            raise ValidationError({"delivered_on": _("The notice cannot be delivered before it was received.")})
        # Bring the person's due visits up to date first: the delivery task of this notice is made by a
        # recompute queued on commit of the registration, which may not have run yet (broker busy, or
        # registered and delivered in one transaction); a task made after the delivery would stay open.
        care.people_recompute(ids=[veteran.pk])
        task = (DueVisit.objects.open().filter(veteran=veteran, life_event_id=notice.life_event_id).first()
                if notice.life_event_id else None)
        try:
            visit = care.visit_log(actor=actor, veteran=veteran, occasion=occasion, date=delivered_on,
                                   visitors=deliverers, mode=VisitMode.HOME, task=task, life_event=notice.life_event,
                                   content=_("Merit notice delivered: %(member)s, %(award)s") % {
                                       "member": notice.member_name, "award": notice.get_award_display()})
        except ValidationError as exc:
            raise _care_errors(exc, {"visitors": "deliverers", "date": "delivered_on"}) from exc
        notice.delivered_on, notice.deliverers, notice.signature = delivered_on, deliverers, signature
        notice.visit, notice.delivered_by, notice.delivered_at = visit, _actor(actor), timezone.now()
        if note:
            notice.note = "\n".join(part for part in (notice.note, note.strip()) if part)[:500]
        notice.save(update_fields=["delivered_on", "deliverers", "signature", "visit", "delivered_by", "delivered_at",
                                  "note"])
    return notice


# --- after a record changes -----------------------------------------------------------------------


def person_records_follow(*, ids: list[int]) -> int:
    """Plaque records and merit notices (delivered or not, with their signed photos) follow their person to
    a new responsible unit: a transfer calls it inside its own transaction (registry hook ``on_move``), so
    that the new station opens them and the old one no longer does. Returns how many rows moved."""
    unit = Subquery(Veteran.objects.filter(pk=OuterRef("veteran_id")).values("org_unit_id")[:1])
    return sum(model.objects.filter(veteran_id__in=ids).exclude(org_unit_id=unit).update(org_unit_id=unit)
               for model in (PlaqueRecord, MeritNotice))
