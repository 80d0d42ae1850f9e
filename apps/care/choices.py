from django.db import models
from django.utils.translation import gettext_lazy as _


class OccasionGroup(models.TextChoices):
    """The bureau's care routines; the occasions inside each are data (``Occasion``)."""

    ENLISTMENT = "enlistment", _("New recruits (四尊崇)")
    HOMECOMING = "homecoming", _("Homecoming (五关爱)")
    MUST_VISIT = "must_visit", _("Must visit (六必访)")
    ROUTINE = "routine", _("Regular contact (常态化联系)")
    FESTIVAL = "festival", _("Festival visit (节日走访)")
    MERIT = "merit", _("Merit notice (送喜报)")
    PLAQUE = "plaque", _("Honour plaque (光荣牌)")
    OTHER = "other", _("Other")


class VisitMode(models.TextChoices):
    HOME = "home", _("Home visit")
    STATION = "station", _("At the station")
    PHONE = "phone", _("Phone or video call")


class RuleKind(models.TextChoices):
    INTERVAL = "interval", _("Every N months")
    AFTER_REPORT = "after_report", _("After reporting home")
    AFTER_EVENT = "after_event", _("After a life event")
    FESTIVAL = "festival", _("Festival")
    BIRTHDAY = "birthday", _("Birthday")


class Calendar(models.TextChoices):
    SOLAR = "solar", _("Gregorian calendar")
    LUNAR = "lunar", _("Lunar calendar")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To visit")
    DONE = "done", _("Visited")
    CANCELLED = "cancelled", _("No longer needed")


class EscalationLevel(models.IntegerChoices):
    STATION = 0, _("Responsible station")
    STREET = 1, _("Street/town station")
    BUREAU = 2, _("Bureau")
