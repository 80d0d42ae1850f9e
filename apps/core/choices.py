from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups; the value is the group's name (seeded by migration 0002)."""

    ADMIN = "系统管理员", _("System administrator")
    LEADER = "局领导", _("Bureau leadership")
    BUREAU_STAFF = "局机关工作人员", _("Bureau staff")
    STREET_STATION = "街道(镇)服务站", _("Street/town station")
    VILLAGE_STATION = "村(社区)服务站", _("Community/village station")
    ENTERPRISE = "企业联络人", _("Enterprise contact")


# Roles whose scope is the whole district; station roles see their own unit and the units below it.
DISTRICT_WIDE_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.BUREAU_STAFF})
STATION_ROLES = frozenset({Role.STREET_STATION, Role.VILLAGE_STATION})


class OrgLevel(models.TextChoices):
    DISTRICT = "district", _("District/county")
    STREET = "street", _("Street/town")
    COMMUNITY = "community", _("Community/village")


class AccessAction(models.TextChoices):
    VIEW = "view", _("Viewed sensitive record")
    REVEAL = "reveal", _("Revealed ID number")
    EXPORT = "export", _("Exported")
    DOWNLOAD = "download", _("Downloaded file")
    PRINT = "print", _("Printed")
    SECOND_FACTOR = "second_factor", _("Changed two-step verification")
    SEARCH = "search", _("Searched by ID number")


class NotificationLevel(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    DANGER = "danger", _("Urgent")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")  # its files were deleted after GENERATED_FILES_TTL_DAYS
