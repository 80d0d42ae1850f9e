from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeKind(models.TextChoices):
    """Kinds of code table. The entries are data (seeded by migration, edited by administrators)."""

    ETHNIC = "ethnic", _("Ethnic group")
    POLITICAL = "political", _("Political status")
    EDUCATION = "education", _("Education")
    MARITAL = "marital", _("Marital status")
    HEALTH = "health", _("Health")
    CATEGORY = "category", _("Collection category")
    BRANCH = "branch", _("Service branch")
    MILITARY_CATEGORY = "military_category", _("Military category")
    RANK = "rank", _("Rank")
    DISCHARGE_MODE = "discharge_mode", _("Discharge mode")
    CERTIFICATE = "certificate", _("Discharge certificate")
    UNIT_NATURE = "unit_nature", _("Nature of the placement unit")
    CARE_CATEGORY = "care_category", _("Priority-care category")
    BENEFIT = "benefit", _("Benefit")
    EMPLOYMENT = "employment", _("Employment status")
    RELATION = "relation", _("Family relation")
    TAG = "tag", _("Tag")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class HukouType(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class VeteranStatus(models.TextChoices):
    ACTIVE = "active", _("On register")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    CANCELLED = "cancelled", _("Cancelled")


class DisabilityNature(models.TextChoices):
    WAR = "war", _("In combat")
    DUTY = "duty", _("On duty")
    ILLNESS = "illness", _("Illness")


class SupportMode(models.TextChoices):
    NONE = "", _("Not supported")
    CENTRALISED = "centralised", _("Centralised support")
    DISPERSED = "dispersed", _("Dispersed support")


class CardType(models.TextChoices):
    VETERAN = "veteran", _("Veteran preferential card")
    SURVIVOR = "survivor", _("Survivor preferential card")


class CardStatus(models.TextChoices):
    FILED = "filed", _("File created")
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved by county")
    PRODUCED = "produced", _("Card produced")
    ISSUED = "issued", _("Issued")
    LOST = "lost", _("Reported lost")
    REVOKED = "revoked", _("Revoked")


class CardEventKind(models.TextChoices):
    APPLY = "apply", _("Application")
    APPROVE = "approve", _("Approval")
    PRODUCE = "produce", _("Production")
    ISSUE = "issue", _("Issue")
    LOSS = "loss", _("Loss reported")
    REISSUE = "reissue", _("Reissue")
    REPLACE = "replace", _("Replacement")
    REVOKE = "revoke", _("Revocation")


class TransferDirection(models.TextChoices):
    WITHIN = "within", _("Within the district")
    OUT = "out", _("Out of the district")
    IN = "in", _("Into the district")


class AttachmentKind(models.TextChoices):
    ID_CARD = "id_card", _("ID card")
    CERTIFICATE = "certificate", _("Discharge certificate")
    DISABILITY = "disability", _("Disability certificate")
    CARD = "card", _("Preferential card")
    OTHER = "other", _("Other")
