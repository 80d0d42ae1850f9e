from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.models import OrgUnit
from apps.core.querysets import ScopedQuerySet, scoped_queryset

from . import crypto
from .choices import (
    AttachmentKind,
    CardEventKind,
    CardStatus,
    CardType,
    CodeKind,
    DisabilityNature,
    HukouType,
    Sex,
    SupportMode,
    TransferDirection,
    VeteranStatus,
)


class CodeQuerySet(models.QuerySet):
    def of(self, kind: CodeKind) -> CodeQuerySet:
        return self.filter(kind=kind, is_active=True)


@pghistory.track()
class Code(models.Model):
    """One entry of a code table (ethnic groups, categories, ranks, tags…); administrators edit them."""

    kind = models.CharField(_("table"), max_length=32, choices=CodeKind.choices)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("belongs to"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", help_text=_("e.g. the military category a rank belongs to"))
    is_key_recipient = models.BooleanField(_("key care recipient"), default=False)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    objects = CodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("code tables")
        ordering = ["kind", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="code_unique_code"),
            models.UniqueConstraint(fields=["kind", "name"], name="code_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


def code_fk(kind: CodeKind, verbose_name, **kwargs) -> models.ForeignKey:
    # Not indexed by default: no page looks records up by most codes, and every index is paid on every insert
    # (an import writes 100,000 rows). Deleting a code checks its uses with a scan, which is rare and fine.
    kwargs.setdefault("db_index", False)
    return models.ForeignKey(Code, verbose_name=verbose_name, null=True, blank=True, on_delete=models.PROTECT,
                             limit_choices_to={"kind": kind}, related_name="+", **kwargs)


class VeteranQuerySet(ScopedQuerySet):
    def active(self) -> VeteranQuerySet:
        return self.filter(status=VeteranStatus.ACTIVE)


@pghistory.track()
class Veteran(models.Model):
    """一人一档: one record per veteran or other priority-care person, kept by the responsible unit."""

    # Indexed by veteran_unit_status, which leads with it.
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                 related_name="veterans", db_index=False)
    status = models.CharField(_("status"), max_length=16, choices=VeteranStatus.choices, default=VeteranStatus.ACTIVE)
    status_date = models.DateField(_("status since"), null=True, blank=True)
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)

    # Identity
    name = models.CharField(_("full name"), max_length=50)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=200, editable=False)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, editable=False)
    id_number_encrypted = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    ethnic = code_fk(CodeKind.ETHNIC, _("ethnic group"))
    political = code_fk(CodeKind.POLITICAL, _("political status"))
    education = code_fk(CodeKind.EDUCATION, _("education"))
    marital = code_fk(CodeKind.MARITAL, _("marital status"))
    health = code_fk(CodeKind.HEALTH, _("health"))
    hukou_type = models.CharField(_("household type"), max_length=8, choices=HukouType.choices, blank=True)
    hukou_address = models.CharField(_("registered address"), max_length=200, blank=True)
    address = models.CharField(_("residential address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    categories = models.ManyToManyField(Code, verbose_name=_("collection categories"), blank=True,
                                        limit_choices_to={"kind": CodeKind.CATEGORY}, related_name="veterans_in_category")
    primary_category = code_fk(CodeKind.CATEGORY, _("main collection category"))
    tags = models.ManyToManyField(Code, verbose_name=_("tags"), blank=True, limit_choices_to={"kind": CodeKind.TAG},
                                  related_name="veterans_tagged")

    # Service
    enlist_date = models.DateField(_("enlisted"), null=True, blank=True)
    enlist_place = models.CharField(_("enlisted at"), max_length=100, blank=True)
    discharge_date = models.DateField(_("discharged"), null=True, blank=True)
    branch = code_fk(CodeKind.BRANCH, _("service branch"))
    troop_code = models.CharField(_("unit designation"), max_length=50, blank=True)
    re_enlisted = models.BooleanField(_("enlisted twice"), default=False)
    military_category = code_fk(CodeKind.MILITARY_CATEGORY, _("military category"))
    rank = code_fk(CodeKind.RANK, _("rank"))
    discharge_mode = code_fk(CodeKind.DISCHARGE_MODE, _("discharge mode"), db_index=True)  # a list filter
    certificate_type = code_fk(CodeKind.CERTIFICATE, _("discharge certificate"))
    certificate_number = models.CharField(_("certificate number"), max_length=50, blank=True)

    # Placement outcome
    report_date = models.DateField(_("reported for placement"), null=True, blank=True)
    placement_unit = models.CharField(_("placement unit"), max_length=200, blank=True)
    placement_unit_nature = code_fk(CodeKind.UNIT_NATURE, _("nature of the placement unit"))

    employment = code_fk(CodeKind.EMPLOYMENT, _("employment status"))
    notes = models.TextField(_("notes"), blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)

    objects = VeteranQuerySet.as_manager()

    class Meta:
        verbose_name = _("veteran")
        verbose_name_plural = _("veterans")
        permissions = [
            ("reveal_id_number", "Can reveal full ID numbers"),
            ("import_veteran", "Can import veterans"),
            ("export_veteran", "Can export veterans"),
            ("transfer_veteran", "Can transfer veterans"),
        ]
        indexes = [
            models.Index(fields=["org_unit", "status", "-id"], name="veteran_unit_status"),
            # Street + category lists (also their capped count: index-only with the status in the key).
            models.Index(fields=["primary_category", "org_unit", "status", "-id"], name="veteran_category_unit_status"),
            # Lists sorted by name (keyset on name_pinyin, id), with and without a category filter.
            models.Index(fields=["primary_category", "status", "name_pinyin", "id"], name="veteran_category_name"),
            models.Index(fields=["status", "name_pinyin", "id"], name="veteran_status_name"),
            # Search: prefix look-ups of the name, pinyin and initials, which give a search's matching ids (and
            # their count) without reading the table. Status and unit are key columns, so that a street's search
            # tests them inside the index scan (an index condition the planner costs right; as INCLUDE columns it
            # preferred walking the newest records or intersecting the prefix with the street's 128,000 records).
            models.Index(fields=["name", "status", "org_unit"], name="veteran_name_prefix",
                         opclasses=["varchar_pattern_ops", "text_ops", "int8_ops"], include=["id"]),
            models.Index(fields=["name_pinyin", "status", "org_unit"], name="veteran_pinyin_prefix",
                         opclasses=["varchar_pattern_ops", "text_ops", "int8_ops"], include=["id"]),
            models.Index(fields=["name_initials", "status", "org_unit"], name="veteran_initials_prefix",
                         opclasses=["varchar_pattern_ops", "text_ops", "int8_ops"], include=["id"]),
            # A common prefix (a surname, two initials) matches tens of thousands: the newest matches are found by
            # walking ids backwards and testing the names in the index alone.
            models.Index(fields=["status", "-id"], name="veteran_status_newest_names",
                         include=["org_unit", "name", "name_pinyin", "name_initials"]),
            models.Index(fields=["birth_date"], name="veteran_birth"),
            models.Index(fields=["phone"], name="veteran_phone"),  # exact search; no LIKE index beside it
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:veteran_detail", args=[self.pk])

    @property
    def id_number(self) -> str:
        """The full number, decrypted. Callers that show it must log the reveal (services.veteran_reveal_id)."""
        return crypto.decrypt(self.id_number_encrypted)


# Who added or removed a category or tag of a person, and when (the person's history tab). Auto-created
# through tables carry their triggers by pgtrigger's install after migrate (PGTRIGGER_INSTALL_ON_MIGRATE).
for _field, _event in (("categories", "VeteranCategoriesEvent"), ("tags", "VeteranTagsEvent")):
    pghistory.track(
        pghistory.InsertEvent(f"{_field}.add"),
        pghistory.DeleteEvent(f"{_field}.remove"),
        obj_field=None,
        model_name=_event,
        app_label="registry",
        # The history tab reads a person's newest changes: without (person, event id) the planner walks the whole
        # event table backwards by id and filters (100-360 ms at 1,000,000 people; 0.1 ms with it).
        meta={"indexes": [models.Index(fields=["veteran", "-pgh_id"], name=f"vet_{_field[:4]}_event_newest")]},
    )(getattr(Veteran, _field).through)


FamilyQuerySet = scoped_queryset("veteran__org_unit")


@pghistory.track()
class FamilyMember(models.Model):
    veteran = models.ForeignKey(Veteran, verbose_name=_("veteran"), on_delete=models.CASCADE, related_name="family")
    relation = code_fk(CodeKind.RELATION, _("relation"))
    name = models.CharField(_("full name"), max_length=50)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    work_unit = models.CharField(_("work unit"), max_length=200, blank=True)
    health = code_fk(CodeKind.HEALTH, _("health"))
    is_active_duty = models.BooleanField(_("serving in the forces"), default=False)
    troop_location = models.CharField(_("stationed at"), max_length=100, blank=True)
    military_category = code_fk(CodeKind.MILITARY_CATEGORY, _("military category"))
    rank = code_fk(CodeKind.RANK, _("rank"))

    objects = FamilyQuerySet.as_manager()

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        constraints = [
            models.UniqueConstraint(fields=["veteran", "id_number_hash"], condition=~models.Q(id_number_hash=""),
                                    name="family_unique_id_per_veteran"),
        ]

    def __str__(self) -> str:
        return self.name


CareQuerySet = scoped_queryset("veteran__org_unit")


@pghistory.track()
class CareEntitlement(models.Model):
    """A priority-care category the person holds (优抚类别), with disability and benefit details."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("veteran"), on_delete=models.CASCADE, related_name="care")
    category = code_fk(CodeKind.CARE_CATEGORY, _("care category"))
    disability_grade = models.PositiveSmallIntegerField(_("disability grade"), null=True, blank=True)
    disability_nature = models.CharField(_("disability nature"), max_length=16, choices=DisabilityNature.choices,
                                         blank=True)
    benefit = code_fk(CodeKind.BENEFIT, _("benefit"))
    monthly_amount = models.DecimalField(_("amount per month (yuan)"), max_digits=10, decimal_places=2, null=True,
                                         blank=True)
    support_mode = models.CharField(_("support"), max_length=16, choices=SupportMode.choices, blank=True)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)

    objects = CareQuerySet.as_manager()

    class Meta:
        verbose_name = _("care entitlement")
        verbose_name_plural = _("care entitlements")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disability_grade__isnull=True) | models.Q(disability_grade__range=(1, 10)),
                name="care_disability_grade_1_10"),
            models.UniqueConstraint(fields=["veteran", "category"], name="care_unique_category"),
        ]

    def __str__(self) -> str:
        return str(self.category)


CardQuerySet = scoped_queryset("veteran__org_unit")


@pghistory.track()
class PreferentialCard(models.Model):
    """优待证: one card per person and type; its life is kept as events."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("veteran"), on_delete=models.CASCADE, related_name="cards")
    card_type = models.CharField(_("card type"), max_length=16, choices=CardType.choices, default=CardType.VETERAN)
    number = models.CharField(_("card number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CardStatus.choices, default=CardStatus.FILED)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        verbose_name = _("preferential card")
        verbose_name_plural = _("preferential cards")
        constraints = [models.UniqueConstraint(fields=["veteran", "card_type"], name="card_one_per_type")]
        # The stations' "applications waiting" count and list (reports' home page): a few thousand rows among a
        # card per veteran.
        indexes = [models.Index(fields=["status", "veteran"], name="card_waiting",
                                condition=models.Q(status__in=["applied", "approved"]))]

    def __str__(self) -> str:
        return self.number or str(self.get_card_type_display())


CardEventQuerySet = scoped_queryset("card__veteran__org_unit")


class CardEvent(models.Model):
    card = models.ForeignKey(PreferentialCard, verbose_name=_("card"), on_delete=models.CASCADE, related_name="lifecycle")
    kind = models.CharField(_("event"), max_length=16, choices=CardEventKind.choices)
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CardEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("card event")
        verbose_name_plural = _("card events")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


TransferQuerySet = scoped_queryset("veteran__org_unit")


class Transfer(models.Model):
    """迁入/迁出: the record moved from one responsible unit to another (or out of the district)."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("veteran"), on_delete=models.CASCADE, related_name="transfers")
    direction = models.CharField(_("direction"), max_length=8, choices=TransferDirection.choices)
    from_unit = models.ForeignKey(OrgUnit, verbose_name=_("from"), null=True, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(OrgUnit, verbose_name=_("to"), null=True, on_delete=models.PROTECT, related_name="+")
    destination = models.CharField(_("destination outside the district"), max_length=200, blank=True)
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.veteran} {self.get_direction_display()} {self.date}"


AttachmentQuerySet = scoped_queryset("veteran__org_unit")


class Attachment(models.Model):
    """A scan of a document belonging to the record."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("veteran"), on_delete=models.CASCADE,
                                related_name="attachments")
    kind = models.CharField(_("document"), max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class ExportedVeteran(models.Model):
    """A person contained in an export: links the export's access-log entry to each record in the file, so that the
    export shows on the person's "viewed or exported by" tab. Written set-based (one ``INSERT … SELECT unnest``) by
    ``exporting.veteran_export``; deleted with its entry when the access log is purged."""

    pk = models.CompositePrimaryKey("entry_id", "veteran_id")
    # The database deletes the links with their entry (ON DELETE CASCADE, added by migration 0010): left to Django,
    # a cascade would make the nightly purge load every old entry into memory instead of deleting them in one query.
    entry = models.ForeignKey("core.AccessLog", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                              db_index=False)
    veteran = models.ForeignKey(Veteran, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        verbose_name = _("exported record")
        verbose_name_plural = _("exported records")
        # The tab's look-up: the entries that contained one person (an index-only scan).
        indexes = [models.Index(fields=["veteran", "entry"], name="exported_veteran_lookup")]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.veteran_id}"
