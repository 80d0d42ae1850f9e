"""机关驻街 (bureau-to-street liaison): bureau departments paired with streets and their monthly task lists.

The tables keep the names they had inside the care app (``care_*``): the models moved to this app in
state only (migrations ``care.0013`` and ``liaison.0001``), so no row was copied."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import OrgUnit
from apps.core.querysets import scoped_queryset

from .choices import LiaisonStatus


class LiaisonPairing(models.Model):
    """A bureau department (科室) paired with a street/town station (机关驻街)."""

    department = models.CharField(_("bureau department"), max_length=100)
    street = models.ForeignKey(OrgUnit, verbose_name=_("street/town"), on_delete=models.PROTECT,
                               related_name="liaison_pairings")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("liaison officers"), blank=True,
                                     related_name="liaison_pairings", db_table="care_liaisonpairing_members")
    is_active = models.BooleanField(_("active"), default=True)

    objects = scoped_queryset("street").as_manager()

    class Meta:
        db_table = "care_liaisonpairing"
        verbose_name = _("liaison pairing")
        verbose_name_plural = _("liaison pairings")
        ordering = ["street__path", "department"]
        constraints = [models.UniqueConstraint(fields=["department", "street"], name="pairing_unique")]

    def __str__(self) -> str:
        return f"{self.department} · {self.street}"


@pghistory.track(meta={"db_table": "care_liaisontaskevent"})
class LiaisonTask(models.Model):
    """One item of a pairing's monthly task list: what, who, by when, how it went."""

    pairing = models.ForeignKey(LiaisonPairing, verbose_name=_("pairing"), on_delete=models.CASCADE,
                                related_name="tasks")
    month = models.DateField(_("month"), help_text=_("the first day of the month"))
    item = models.CharField(_("task"), max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=LiaisonStatus.choices, default=LiaisonStatus.PLANNED)
    completed_on = models.DateField(_("completed on"), null=True, blank=True,
                                    help_text=_("set when the task is marked done; cleared if it is reopened"))
    feedback = models.TextField(_("feedback"), blank=True)
    inspection_notes = models.TextField(_("inspection notes"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = scoped_queryset("pairing__street").as_manager()

    class Meta:
        db_table = "care_liaisontask"
        verbose_name = _("liaison task")
        verbose_name_plural = _("liaison tasks")
        ordering = ["month", "due_date", "id"]
        constraints = [models.CheckConstraint(condition=Q(month__day=1), name="liaisontask_month_first_day")]

    def __str__(self) -> str:
        return self.item
