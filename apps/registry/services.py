"""Every write to the registry goes through these services: validation, encryption, history, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from apps.core import concurrency
from apps.core.choices import AccessAction
from apps.core.models import OrgUnit, User
from apps.core.services import access_log_record

from . import crypto, hooks, idnumber
from .choices import CardEventKind, CardStatus, TransferDirection, VeteranStatus
from .models import Attachment, CardEvent, CareEntitlement, FamilyMember, PreferentialCard, Transfer, Veteran

# Fields a caller may set directly on a Veteran (everything but identity, scope and status).
VETERAN_FIELDS = (
    "name", "ethnic", "political", "education", "marital", "health", "hukou_type", "hukou_address", "address",
    "phone", "primary_category", "enlist_date", "enlist_place", "discharge_date", "branch", "troop_code",
    "re_enlisted", "military_category", "rank", "discharge_mode", "certificate_type", "certificate_number",
    "report_date", "placement_unit", "placement_unit_nature", "employment", "notes",
)


def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name (pypinyin): 张伟 → ("zhangwei", "zw")."""
    # One conversion: the initials are the first letters of the syllables (what Style.FIRST_LETTER gives,
    # checked over every CJK character and 30,000 random names), at half the cost of converting twice.
    syllables = lazy_pinyin("".join(name.split()), style=Style.NORMAL, errors="ignore")
    return "".join(syllables).lower(), "".join(s[0] for s in syllables if s).lower()


def _check_identity(parsed: idnumber.IdNumber, sex: str | None, birth_date: date | None) -> None:
    errors = {}
    if sex and sex != parsed.sex:
        errors["sex"] = _("The sex contradicts the ID number (its 17th digit says %(sex)s).") % {
            "sex": _("male") if parsed.sex == "M" else _("female")}
    if birth_date and birth_date != parsed.birth_date:
        errors["birth_date"] = _("The birth date contradicts the ID number (%(date)s).") % {
            "date": parsed.birth_date.isoformat()}
    if errors:
        raise ValidationError(errors)


def parse_id_number(raw: object, *, sex: str | None = None, birth_date: date | None = None) -> idnumber.IdNumber:
    """Validate an ID number (and the sex and birth date typed beside it) or raise a field error."""
    try:
        parsed = idnumber.parse(raw)
    except idnumber.IdNumberError as exc:
        raise ValidationError({"id_number": str(exc)}) from exc
    _check_identity(parsed, sex, birth_date)
    return parsed


def duplicate_message(*, user: User | None, existing: Veteran) -> str:
    """Say that the person exists; name the unit only if the user may see the record."""
    if user is not None and Veteran.objects.visible_to(user).filter(pk=existing.pk).exists():
        return _("This person is already registered (%(unit)s, record %(pk)s).") % {
            "unit": existing.org_unit.full_name, "pk": existing.pk}
    return _("This person is already registered by another unit; ask the bureau to transfer the record.")


def _check_unit(actor: User | None, unit: OrgUnit) -> None:
    if actor is not None and not OrgUnit.objects.visible_to(actor).filter(pk=unit.pk).exists():
        raise ValidationError({"org_unit": _("This unit is outside your area.")})


def veteran_register(*, actor: User | None, id_number: str, org_unit: OrgUnit, sex: str | None = None,
                     birth_date: date | None = None, categories=(), tags=(), **fields: Any) -> Veteran:
    """Create a record. The ID number is validated, encrypted and must not exist anywhere yet."""
    parsed = parse_id_number(id_number, sex=sex, birth_date=birth_date)
    _check_unit(actor, org_unit)
    digest = crypto.blind_index(parsed.number)
    with transaction.atomic():
        existing = Veteran.objects.select_related("org_unit").filter(id_number_hash=digest).first()
        if existing:
            raise ValidationError({"id_number": duplicate_message(user=actor, existing=existing)})
        veteran = Veteran(
            org_unit=org_unit, id_number_encrypted=crypto.encrypt(parsed.number), id_number_hash=digest,
            id_number_masked=parsed.masked, sex=parsed.sex, birth_date=parsed.birth_date,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            **{k: v for k, v in fields.items() if k in VETERAN_FIELDS},
        )
        veteran.name_pinyin, veteran.name_initials = name_pinyin(veteran.name)
        veteran.full_clean(exclude=["id_number_encrypted", "id_number_hash", "id_number_masked", "name_pinyin",
                                    "name_initials"])
        veteran.save()
        if categories:
            veteran.categories.set(categories)
        if tags:
            veteran.tags.set(tags)
        hooks.veterans_changed([veteran.pk])
    return veteran


def veteran_update(*, actor: User | None, veteran: Veteran, categories=None, tags=None, version: str | None = None,
                   **fields: Any) -> Veteran:
    """Change the editable fields of a record (not its identity, unit or status).

    ``version`` (the form's or the API's version of the record, ``apps.core.concurrency``) refuses a write
    over a change someone else saved since it was read.
    """
    changed = [k for k in fields if k in VETERAN_FIELDS]
    with transaction.atomic():
        concurrency.lock_and_check(veteran, version)
        for key in changed:
            setattr(veteran, key, fields[key])
        if "name" in changed:
            veteran.name_pinyin, veteran.name_initials = name_pinyin(veteran.name)
            changed += ["name_pinyin", "name_initials"]
        veteran.full_clean(exclude=["id_number_encrypted", "id_number_hash", "id_number_masked", "name_pinyin",
                                    "name_initials"])
        veteran.save(update_fields=[*changed, "updated_at"])
        if categories is not None:
            veteran.categories.set(categories)
        if tags is not None:
            veteran.tags.set(tags)
        hooks.veterans_changed([veteran.pk])
    return veteran


def veteran_transfer(*, actor: User, veteran: Veteran, to_unit: OrgUnit | None, on: date, reason: str = "",
                     destination: str = "") -> Transfer:
    """迁出/迁入: move the record to another unit of the district, or out of it (status 迁出).

    The receiving unit may be outside the actor's own area (a village hands a person to another street);
    the history keeps both units.
    """
    if to_unit is None and not destination:
        raise ValidationError({"destination": _("Give the unit or the place outside the district.")})
    if to_unit is not None and to_unit.pk == veteran.org_unit_id:
        raise ValidationError({"to_unit": _("The record already belongs to this unit.")})
    if on > timezone.localdate():
        raise ValidationError({"date": _("The date cannot be in the future.")})
    with transaction.atomic():
        locked = Veteran.objects.select_for_update().get(pk=veteran.pk)
        if locked.status != VeteranStatus.ACTIVE:
            raise ValidationError(_("Only a record on the register can be transferred."))
        transfer = Transfer.objects.create(
            veteran=locked, direction=TransferDirection.WITHIN if to_unit else TransferDirection.OUT,
            from_unit=locked.org_unit, to_unit=to_unit, destination=destination, date=on, reason=reason, actor=actor,
        )
        if to_unit is not None:
            locked.org_unit = to_unit
            locked.save(update_fields=["org_unit", "updated_at"])
            # Visits, life events, tasks, plaques, notices and their files follow the person now, in this
            # transaction: the old unit loses them and the new one gets them at the same moment.
            hooks.veterans_moved([locked.pk])
        else:
            locked.status, locked.status_date, locked.status_reason = VeteranStatus.MOVED_OUT, on, reason or destination
            locked.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
        hooks.veterans_changed([locked.pk])
    veteran.refresh_from_db()
    return transfer


CLOSED_STATUSES = (VeteranStatus.DECEASED, VeteranStatus.CANCELLED)


def veteran_close(*, actor: User, veteran: Veteran, status: str, on: date, reason: str = "") -> Veteran:
    """去世/注销: a soft close of a record on the register; the record stays and can be restored.

    The states: 在册 → 去世/注销 (here) → 在册 (``veteran_restore``); 在册 → 迁出 (``veteran_transfer``).
    A closed or moved-out record is not closed again: the first close keeps its date and reason.
    """
    if status not in CLOSED_STATUSES:
        raise ValidationError({"status": _("Choose deceased or cancelled.")})
    if on > timezone.localdate():
        raise ValidationError({"date": _("The date cannot be in the future.")})
    if on < veteran.birth_date:
        raise ValidationError({"date": _("The date is before the person's birth.")})
    with transaction.atomic():
        locked = Veteran.objects.select_for_update().get(pk=veteran.pk)
        if locked.status in CLOSED_STATUSES:
            raise ValidationError(_("This record was already closed as %(status)s on %(date)s; it cannot be closed "
                                    "again. Restore it first if that was a mistake.") % {
                "status": locked.get_status_display(), "date": locked.status_date or "—"})
        if locked.status != VeteranStatus.ACTIVE:
            raise ValidationError(_("This record has moved out of the district; only a record on the register can "
                                    "be closed."))
        locked.status, locked.status_date, locked.status_reason = status, on, reason
        locked.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
        hooks.veterans_changed([locked.pk])
    veteran.refresh_from_db()
    return veteran


def veteran_restore(*, actor: User, veteran: Veteran) -> Veteran:
    """Undo a 去世/注销 made in error: the record goes back on the register.

    A moved-out record is not restored: it comes back only by a transfer in.
    """
    with transaction.atomic():
        locked = Veteran.objects.select_for_update().get(pk=veteran.pk)
        if locked.status == VeteranStatus.MOVED_OUT:
            raise ValidationError(_("This record moved out of the district; it cannot be restored. It returns to "
                                    "the register only by a transfer in."))
        if locked.status not in CLOSED_STATUSES:
            raise ValidationError(_("This record is on the register; there is nothing to restore."))
        locked.status, locked.status_date, locked.status_reason = VeteranStatus.ACTIVE, timezone.localdate(), ""
        locked.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
        hooks.veterans_changed([locked.pk])
    veteran.refresh_from_db()
    return veteran


def veteran_reveal_id(*, actor: User, veteran: Veteran, request=None) -> str:
    """The full ID number for a user whose role may see it; every reveal is written to the access log."""
    if not actor.has_perm("registry.reveal_id_number"):
        raise PermissionError("reveal_id_number")
    number = veteran.id_number
    access_log_record(user=actor, action=AccessAction.REVEAL, obj=veteran, request=request)
    return number


def veteran_id_search_log(*, actor: User, number: str, request=None) -> int:
    """Write a search by full ID number to the access log: one entry for each record in the user's scope that it
    found (closed ones too), or one without a record when it found none. Returns the number found."""
    found = list(Veteran.objects.visible_to(actor).filter(id_number_hash=crypto.blind_index(number)))
    masked = idnumber.mask(number)
    for veteran in found:
        access_log_record(user=actor, action=AccessAction.SEARCH, obj=veteran, request=request,
                          detail={"id_number": masked})
    if not found:
        access_log_record(user=actor, action=AccessAction.SEARCH, request=request, object_repr=masked,
                          detail={"id_number": masked, "found": 0})
    return len(found)


def family_member_save(*, actor: User | None, veteran: Veteran, member: FamilyMember | None = None,
                       id_number: str = "", version: str | None = None, **fields: Any) -> FamilyMember:
    """Add or change a family member; their own ID number is validated and encrypted too.

    ``version``: see ``veteran_update``.
    """
    if member is not None and version is not None:
        with transaction.atomic():
            concurrency.lock_and_check(member, version)
            return family_member_save(actor=actor, veteran=veteran, member=member, id_number=id_number, **fields)
    member = member or FamilyMember(veteran=veteran)
    for key, value in fields.items():
        setattr(member, key, value)
    if id_number:
        parsed = parse_id_number(id_number)
        member.id_number_encrypted = crypto.encrypt(parsed.number)
        member.id_number_hash = crypto.blind_index(parsed.number)
        member.id_number_masked = parsed.masked
        clash = FamilyMember.objects.filter(veteran=veteran, id_number_hash=member.id_number_hash).exclude(pk=member.pk)
        if clash.exists():
            raise ValidationError({"id_number": _("This family member is already recorded.")})
    member.full_clean(exclude=["id_number_encrypted", "id_number_hash", "id_number_masked", "veteran"])
    member.save()
    return member


CARD_FLOW = {
    CardEventKind.APPLY: CardStatus.APPLIED,
    CardEventKind.APPROVE: CardStatus.APPROVED,
    CardEventKind.PRODUCE: CardStatus.PRODUCED,
    CardEventKind.ISSUE: CardStatus.ISSUED,
    CardEventKind.LOSS: CardStatus.LOST,
    CardEventKind.REISSUE: CardStatus.ISSUED,
    CardEventKind.REPLACE: CardStatus.ISSUED,
    CardEventKind.REVOKE: CardStatus.REVOKED,
}


def card_event_record(*, actor: User, card: PreferentialCard, kind: str, on: date, note: str = "",
                      number: str = "") -> CardEvent:
    """One step in the life of a 优待证; the card's status follows the event."""
    if on > timezone.localdate():
        raise ValidationError({"date": _("The date cannot be in the future.")})
    with transaction.atomic():
        event = CardEvent.objects.create(card=card, kind=kind, date=on, note=note, actor=actor)
        card.status = CARD_FLOW[CardEventKind(kind)]
        update = ["status"]
        if kind in (CardEventKind.ISSUE, CardEventKind.REISSUE, CardEventKind.REPLACE):
            card.issued_on = on
            update.append("issued_on")
        if number:
            card.number = number
            update.append("number")
        card.save(update_fields=update)
    return event


def care_entitlement_save(*, actor: User | None, veteran: Veteran, entitlement: CareEntitlement | None = None,
                          version: str | None = None, **fields: Any) -> CareEntitlement:
    """Add or change a priority-care category of a person; disability needs a grade and a nature.

    ``version``: see ``veteran_update``.
    """
    if entitlement is not None and version is not None:
        with transaction.atomic():
            concurrency.lock_and_check(entitlement, version)
            return care_entitlement_save(actor=actor, veteran=veteran, entitlement=entitlement, **fields)
    entitlement = entitlement or CareEntitlement(veteran=veteran)
    for key, value in fields.items():
        setattr(entitlement, key, value)
    errors = {}
    if entitlement.category and entitlement.category.name.startswith(("残疾", "伤残")):
        if not entitlement.disability_grade:
            errors["disability_grade"] = _("A disability needs its grade (1–10).")
        if not entitlement.disability_nature:
            errors["disability_nature"] = _("A disability needs its nature (in combat, on duty, illness).")
    if entitlement.start_date and entitlement.end_date and entitlement.end_date < entitlement.start_date:
        errors["end_date"] = _("The end is before the start.")
    if errors:
        raise ValidationError(errors)
    entitlement.full_clean(exclude=["veteran"])
    entitlement.save()
    hooks.veterans_changed([veteran.pk])
    return entitlement


def card_create(*, actor: User, veteran: Veteran, card_type: str) -> PreferentialCard:
    """建档立卡: open the 优待证 file of a person (one per card type)."""
    if PreferentialCard.objects.filter(veteran=veteran, card_type=card_type).exists():
        raise ValidationError({"card_type": _("This person already has this card.")})
    with transaction.atomic():
        card = PreferentialCard.objects.create(veteran=veteran, card_type=card_type)
    return card


ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png"}
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def attachment_add(*, actor: User, veteran: Veteran, upload, kind: str) -> Attachment:
    """Store a scan (PDF or image, at most 10 MB) with the record: judged by its content, not its name, and
    stored under a random name (the uploaded one often carries the person's name)."""
    import os

    from apps.core.files import random_upload_name, upload_kind

    extension = os.path.splitext(upload.name)[1].lower()
    if extension not in ATTACHMENT_TYPES:
        raise ValidationError({"file": _("Upload a PDF, JPG or PNG file.")})
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than 10 MB.")})
    content = upload_kind(upload)
    if content is None or (content == "pdf") != (extension == ".pdf"):
        raise ValidationError({"file": _("The file's content is not the PDF, JPG or PNG its name says; upload the "
                                         "scan itself.")})
    original_name = upload.name[:200]
    upload.name = random_upload_name(upload.name, content)
    return Attachment.objects.create(veteran=veteran, kind=kind, file=upload, original_name=original_name,
                                     uploaded_by=actor)
