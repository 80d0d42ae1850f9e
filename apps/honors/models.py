"""Honours registers: 光荣牌 (honour plaques hung or replaced at a household) and 立功喜报 (merit notices
delivered to the family of a serving member). Each row is kept by the unit responsible for the person."""

from __future__ import annotations

import os
import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.care.models import LifeEvent, Visit
from apps.core.models import OrgUnit
from apps.core.querysets import ScopedQuerySet
from apps.registry.models import Veteran

from .choices import MeritAward, PlaqueAction, PlaqueKind


def signature_path(folder: str, filename: str) -> str:
    # A random file name: the uploaded one often carries the family's name.
    extension = os.path.splitext(filename)[1].lower()
    return f"honors/{folder}/{uuid.uuid4().hex}{extension}"


def plaque_signature_path(instance: PlaqueRecord, filename: str) -> str:
    return signature_path("plaques", filename)


def notice_signature_path(instance: MeritNotice, filename: str) -> str:
    return signature_path("notices", filename)


class HonorsQuerySet(ScopedQuerySet):
    scope_field = "org_unit"


@pghistory.track()
class PlaqueRecord(models.Model):
    """光荣牌登记: one hanging or replacement of an honour plaque at a household, signed by the family."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("person"), on_delete=models.CASCADE,
                                related_name="plaque_records")
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                 related_name="+")
    action = models.CharField(_("action"), max_length=8, choices=PlaqueAction.choices, default=PlaqueAction.HANG)
    kind = models.CharField(_("plaque"), max_length=16, choices=PlaqueKind.choices, default=PlaqueKind.GLORY_HOME)
    date = models.DateField(_("date"))
    people = models.CharField(_("people present"), max_length=200,
                              help_text=_("Staff and family members present, e.g. 街道 王某, 村 李某, 户主 张某"))
    signature = models.ImageField(_("signed register (photo)"), upload_to=plaque_signature_path, max_length=200)
    note = models.CharField(_("note"), max_length=500, blank=True)
    visit = models.ForeignKey(Visit, verbose_name=_("visit"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = HonorsQuerySet.as_manager()

    class Meta:
        verbose_name = _("plaque record")
        verbose_name_plural = _("plaque records")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["org_unit", "-date"], name="plaque_unit_date"),
                   models.Index(fields=["veteran", "-date"], name="plaque_person_date")]

    def __str__(self) -> str:
        return f"{self.veteran} {self.get_action_display()} {self.date}"

    def get_absolute_url(self) -> str:
        return reverse("honors:plaque_detail", args=[self.pk])


class MeritNoticeQuerySet(HonorsQuerySet):
    def open(self) -> MeritNoticeQuerySet:
        return self.filter(delivered_on__isnull=True)


@pghistory.track()
class MeritNotice(models.Model):
    """立功喜报: a notice of a serving member's award, received by the bureau and delivered to the family
    at home (with the 人武部). ``veteran`` is the family's record (an active-duty family is on the register)."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("family's record"), on_delete=models.CASCADE,
                                related_name="merit_notices")
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                 related_name="+")
    member_name = models.CharField(_("serving member"), max_length=50)
    award = models.CharField(_("award"), max_length=16, choices=MeritAward.choices)
    notice_date = models.DateField(_("notice received"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    deliverers = models.CharField(_("delivered by"), max_length=200, blank=True,
                                  help_text=_("e.g. 街道 王某, 人武部 李某"))
    signature = models.ImageField(_("signed receipt (photo)"), upload_to=notice_signature_path, max_length=200,
                                  blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    life_event = models.ForeignKey(LifeEvent, verbose_name=_("life event"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    visit = models.ForeignKey(Visit, verbose_name=_("delivery visit"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    delivered_at = models.DateTimeField(_("delivery recorded"), null=True, blank=True)

    objects = MeritNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("merit notice")
        verbose_name_plural = _("merit notices")
        ordering = ["-notice_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(delivered_on__isnull=True) | Q(delivered_on__gte=models.F("notice_date")),
                                   name="meritnotice_delivered_after_notice"),
            models.CheckConstraint(condition=Q(delivered_on__isnull=True) | ~Q(deliverers=""),
                                   name="meritnotice_delivery_names_deliverers"),
        ]
        indexes = [models.Index(fields=["org_unit", "-notice_date"], name="notice_unit_date"),
                   models.Index(fields=["org_unit"], condition=Q(delivered_on__isnull=True), name="notice_open_unit")]

    def __str__(self) -> str:
        return f"{self.member_name} {self.get_award_display()}"

    def get_absolute_url(self) -> str:
        return reverse("honors:notice_detail", args=[self.pk])

    @property
    def is_delivered(self) -> bool:
        return self.delivered_on is not None
