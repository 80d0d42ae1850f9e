from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaqueAction(models.TextChoices):
    HANG = "hang", _("Plaque hung")
    REPLACE = "replace", _("Plaque replaced")


class PlaqueKind(models.TextChoices):
    """The wording on the plaque; most places hang one design, 光荣之家, on every eligible household."""

    GLORY_HOME = "glory_home", _("Glorious family (光荣之家)")
    MARTYR_FAMILY = "martyr_family", _("Martyr's family (烈属光荣)")
    MILITARY_FAMILY = "military_family", _("Military family (军属光荣)")
    VETERAN = "veteran", _("Veteran's honour (退役军人光荣)")


class MeritAward(models.TextChoices):
    """Awards of a serving member that the family receives a notice of (送喜报), highest first."""

    BAYI_MEDAL = "bayi_medal", _("August 1st Medal (八一勋章)")
    HONORARY_TITLE = "honorary_title", _("Honorary title (荣誉称号)")
    FIRST_CLASS = "first_class", _("First-class merit (一等功)")
    SECOND_CLASS = "second_class", _("Second-class merit (二等功)")
    THIRD_CLASS = "third_class", _("Third-class merit (三等功)")


class NoticeStatus(models.TextChoices):
    OPEN = "open", _("To deliver")
    DELIVERED = "delivered", _("Delivered")
