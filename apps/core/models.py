from __future__ import annotations

from functools import cached_property

import pghistory
from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager

from .choices import (
    DISTRICT_WIDE_ROLES,
    STATION_ROLES,
    AccessAction,
    JobStatus,
    NotificationLevel,
    OrgLevel,
    Role,
)
from .querysets import AuditQuerySet, OrgUnitQuerySet, OwnedQuerySet, UserQuerySet

division_code_validator = RegexValidator(r"^\d{12}$", _("A statistical division code has exactly 12 digits."))
phone_validator = RegexValidator(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", _("Enter a mobile number (11 digits) or a landline with area code."))


class OrgUnitManager(MP_NodeManager.from_queryset(OrgUnitQuerySet)):
    def get_queryset(self) -> OrgUnitQuerySet:
        return OrgUnitQuerySet(self.model, using=self._db).order_by("path")


@pghistory.track(exclude=["numchild"])
class OrgUnit(MP_Node):
    """A place in the district tree: district → street/town → community/village.

    Materialised path (django-treebeard): the subtree of a unit is ``path__startswith=unit.path``,
    which is how region scoping selects the rows a station may see.
    """

    code = models.CharField(_("division code"), max_length=12, unique=True, validators=[division_code_validator])
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=OrgLevel.choices)
    is_station = models.BooleanField(_("has a service station"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]
    objects = OrgUnitManager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        permissions = [("manage_orgunits", "Can manage org units")]
        indexes = [models.Index(fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:orgunit_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " / ".join(unit.name for unit in self.lineage())

    def lineage(self) -> list[OrgUnit]:
        """Ancestors from the root down to this unit (one query)."""
        return [*OrgUnit.objects.get_ancestors(self), self]


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass


@pghistory.track(exclude=["password", "last_login"])
class User(AbstractUser):
    """A portal user: belongs to one org unit and holds roles (Django groups)."""

    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("manage_users", "Can manage users and roles")]

    def __str__(self) -> str:
        return self.real_name or self.username

    def get_absolute_url(self) -> str:
        return reverse("core:user_detail", args=[self.pk])

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role) -> bool:
        return role.value in self.role_names

    @property
    def roles(self) -> list[Role]:
        return [role for role in Role if role.value in self.role_names]

    @property
    def sees_whole_district(self) -> bool:
        return self.is_superuser or bool(self.role_names & {r.value for r in DISTRICT_WIDE_ROLES})

    @property
    def has_station_scope(self) -> bool:
        return bool(self.role_names & {r.value for r in STATION_ROLES})

    @property
    def is_portal_admin(self) -> bool:
        return self.is_superuser or self.has_role(Role.ADMIN)


# Role membership changes are part of the audit trail.
pghistory.track(
    pghistory.InsertEvent("group.add"),
    pghistory.DeleteEvent("group.remove"),
    obj_field=None,
    model_name="UserGroupsEvent",
    app_label="core",
)(User.groups.through)


class AccessLog(models.Model):
    """A sensitive read or export: who, what, when, from where. Kept AUDIT_RETENTION_DAYS."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, on_delete=models.SET_NULL)
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-created_at"]
        permissions = [("view_audit", "Can review audit and access logs")]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="accesslog_object")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_action_display()} {self.object_repr}"


class Notification(models.Model):
    """An in-app message to one user; also delivered by e-mail when the user has an address."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=NotificationLevel.choices, default=NotificationLevel.INFO)
    # Identifies the event behind a notification so that it is delivered once only.
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="notification_once"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Job(models.Model):
    """A background job a user started (import, export, PDF, report): its progress and its result file.

    The download centre lists a user's jobs; a failed job keeps its reason and can be run again.
    """

    kind = models.CharField(_("kind"), max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="jobs")
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True, help_text=_("why the job was started"))
    error = models.TextField(_("error"), blank=True)
    input_file = models.FileField(_("uploaded file"), upload_to="jobs/in/%Y/%m/", blank=True)
    output_file = models.FileField(_("result file"), upload_to="jobs/out/%Y/%m/", blank=True)
    # What the result file was made under; every download checks the owner still holds both (files.job_grants_hold).
    grant_permissions = models.JSONField(_("permissions used"), default=list, blank=True)
    grant_scope = models.CharField(_("area"), max_length=255, null=True, blank=True,
                                   help_text=_("unit path the file was made for; empty for the whole district"))
    output_encrypted = models.BooleanField(_("result file encrypted"), default=False)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The last sign of life: queued, started, or progress written. A waiting or running job without one for
    # JOB_STUCK_AFTER_MINUTES is failed with a reason (jobs.jobs_fail_stuck) and can be run again.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="job_user_recent")]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.progress / self.total)) if self.total else (100 if self.status == "done" else 0)


class OutboxMessage(models.Model):
    """Follow-up work recorded in the transaction that made it necessary (a transactional outbox).

    A changed record's derived work (care tasks recomputed…) is written here together with the change, so
    a process killed right after the commit, or Redis being down, cannot lose it: the row stays until a
    worker (or, with the broker down, the web process) has done the work and deleted the row in the same
    transaction. ``apps.core.outbox`` registers the kinds and drains the rows; never shown to users.
    """

    kind = models.CharField(_("kind"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True,
                                      help_text=_("when it was last handed to a worker or run"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


__all__ = ["AccessLog", "Group", "Job", "Notification", "OrgUnit", "OutboxMessage", "User"]


class FigureSnapshot(models.Model):
    """One figure counted for one period over the whole district (``apps.core.figures.store``): its values per
    unit are the ``FigureValue`` rows. Replaced whole on every refresh, inside one transaction."""

    figure = models.CharField(_("figure"), max_length=64)
    period = models.CharField(_("period"), max_length=16)
    computed_at = models.DateTimeField(_("counted at"))
    duration_ms = models.PositiveIntegerField(_("took (ms)"), default=0)

    class Meta:
        verbose_name = _("figure snapshot")
        verbose_name_plural = _("figure snapshots")
        constraints = [models.UniqueConstraint(fields=["figure", "period"], name="figure_snapshot_once")]

    def __str__(self) -> str:
        return f"{self.figure} {self.period}"


class FigureValue(models.Model):
    """A figure's value for one unit (and everything below it): ``data`` is ``{bucket: [value, base]}``, the
    bucket ``""`` being the total. A unit without a row counts zero."""

    snapshot = models.ForeignKey(FigureSnapshot, on_delete=models.CASCADE, related_name="values")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("figure value")
        verbose_name_plural = _("figure values")
        constraints = [models.UniqueConstraint(fields=["snapshot", "unit"], name="figure_value_once")]

    def __str__(self) -> str:
        return f"{self.snapshot_id}/{self.unit_id}"
