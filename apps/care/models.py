"""Care and visits (走访慰问): occasions, visit rules, due visits, visits, life events and campaigns."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.models import OrgUnit
from apps.core.querysets import ScopedQuerySet, scoped_queryset
from apps.registry.models import Code, FamilyMember, Veteran

from .choices import Calendar, EscalationLevel, OccasionGroup, RuleKind, TaskStatus, VisitMode


class Occasion(models.Model):
    """A reason to visit (走访事由): 春节走访, 生病住院, 送喜报… Data, edited by administrators; life-event kinds
    (六必访, merit notices) are occasions too."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    group = models.CharField(_("routine"), max_length=16, choices=OccasionGroup.choices)
    is_life_event = models.BooleanField(_("is a life event"), default=False,
                                        help_text=_("Stations log it as an event that triggers a visit"))
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("visit occasion")
        verbose_name_plural = _("visit occasions")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class VisitRule(models.Model):
    """One row of the bureau's visit rules: whom (selector) and when (kind and its numbers).

    The nightly job turns every active rule into due visits; ``services.rule_save`` validates a rule."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    occasion = models.ForeignKey(Occasion, verbose_name=_("occasion"), on_delete=models.PROTECT, related_name="rules")
    home_visit_required = models.BooleanField(_("home visit required"), default=False,
                                              help_text=_("A phone call or a visit at the station does not count"))
    # When
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), null=True, blank=True)
    due_within_days = models.PositiveSmallIntegerField(_("due within (days)"), null=True, blank=True,
                                                       help_text=_("after reporting home or after the event"))
    event_occasions = models.ManyToManyField(Occasion, verbose_name=_("triggering events"), blank=True,
                                             related_name="triggered_rules", limit_choices_to={"is_life_event": True})
    calendar = models.CharField(_("calendar"), max_length=8, choices=Calendar.choices, blank=True)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    lead_days = models.PositiveSmallIntegerField(_("opens days before"), default=0,
                                                 help_text=_("festival or birthday visits appear this many days before"))
    # Whom
    everyone = models.BooleanField(_("everyone on the register"), default=False)
    key_recipients_only = models.BooleanField(_("key care recipients only"), default=False)
    categories = models.ManyToManyField(Code, verbose_name=_("collection categories"), blank=True, related_name="+",
                                        limit_choices_to={"kind": "category"})
    care_categories = models.ManyToManyField(Code, verbose_name=_("priority-care categories"), blank=True,
                                             related_name="+", limit_choices_to={"kind": "care_category"})
    discharge_modes = models.ManyToManyField(Code, verbose_name=_("discharge modes"), blank=True, related_name="+",
                                             limit_choices_to={"kind": "discharge_mode"})
    tags = models.ManyToManyField(Code, verbose_name=_("tags"), blank=True, related_name="+",
                                  limit_choices_to={"kind": "tag"})
    org_units = models.ManyToManyField(OrgUnit, verbose_name=_("units"), blank=True, related_name="+",
                                       help_text=_("people of these units and the units below them"))
    min_age = models.PositiveSmallIntegerField(_("aged at least"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("aged at most"), null=True, blank=True)
    # Escalation
    escalate_street_days = models.PositiveSmallIntegerField(_("escalate to the street after (days overdue)"),
                                                            default=7)
    escalate_bureau_days = models.PositiveSmallIntegerField(_("escalate to the bureau after (days overdue)"),
                                                            default=30)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("visit rule")
        verbose_name_plural = _("visit rules")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_months__isnull=True) | Q(interval_months__gte=1),
                                   name="visitrule_interval_positive"),
            models.CheckConstraint(condition=Q(month__isnull=True) | Q(month__range=(1, 12)), name="visitrule_month"),
            models.CheckConstraint(condition=Q(day__isnull=True) | Q(day__range=(1, 31)), name="visitrule_day"),
            models.CheckConstraint(condition=Q(escalate_bureau_days__gte=models.F("escalate_street_days")),
                                   name="visitrule_escalation_order"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("care:rule_edit", args=[self.pk])


# Who added or removed a selector of a rule (its history on the rule's page); see the registry's tags.
RULE_SELECTOR_EVENTS = {
    "event_occasions": "VisitRuleEventOccasionsEvent", "categories": "VisitRuleCategoriesEvent",
    "care_categories": "VisitRuleCareCategoriesEvent", "discharge_modes": "VisitRuleDischargeModesEvent",
    "tags": "VisitRuleTagsEvent", "org_units": "VisitRuleOrgUnitsEvent",
}
for _field, _event in RULE_SELECTOR_EVENTS.items():
    pghistory.track(
        pghistory.InsertEvent(f"{_field}.add"),
        pghistory.DeleteEvent(f"{_field}.remove"),
        obj_field=None,
        model_name=_event,
        app_label="care",
    )(getattr(VisitRule, _field).through)


class Campaign(models.Model):
    """A visiting campaign (2027 春节走访): the due visits of one festival rule in one year, or a campaign
    a bureau user started by hand for a rule."""

    name = models.CharField(_("name"), max_length=100)
    rule = models.ForeignKey(VisitRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="campaigns")
    period_key = models.CharField(_("period"), max_length=32)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [models.UniqueConstraint(fields=["rule", "period_key"], name="campaign_unique_rule_period")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("care:campaign_detail", args=[self.pk])


class CareScopedQuerySet(ScopedQuerySet):
    scope_field = "org_unit"


@pghistory.track()
class LifeEvent(models.Model):
    """Something that happened to a person and calls for a visit (六必访: 生病住院, 家庭变故…; a merit notice)."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("person"), on_delete=models.CASCADE,
                                related_name="life_events")
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                 related_name="+")
    occasion = models.ForeignKey(Occasion, verbose_name=_("event"), on_delete=models.PROTECT, related_name="+",
                                 limit_choices_to={"is_life_event": True})
    date = models.DateField(_("date"))
    description = models.CharField(_("what happened"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CareScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["date", "occasion"], name="lifeevent_date")]

    def __str__(self) -> str:
        return f"{self.occasion} {self.date}"


@pghistory.track()
class Visit(models.Model):
    """走访慰问: one visit to a person (or to one of their family)."""

    veteran = models.ForeignKey(Veteran, verbose_name=_("person"), on_delete=models.CASCADE, related_name="visits")
    family_member = models.ForeignKey(FamilyMember, verbose_name=_("family member visited"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="visits")
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                 related_name="+")
    occasion = models.ForeignKey(Occasion, verbose_name=_("occasion"), on_delete=models.PROTECT, related_name="visits")
    life_event = models.ForeignKey(LifeEvent, verbose_name=_("life event"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="visits")
    mode = models.CharField(_("how"), max_length=8, choices=VisitMode.choices, default=VisitMode.HOME)
    date = models.DateField(_("visit date"))
    visitors = models.CharField(_("visitors"), max_length=200)
    content = models.TextField(_("what was discussed"), blank=True)
    needs = models.TextField(_("needs found"), blank=True)
    help_given = models.TextField(_("help given"), blank=True)
    money = models.DecimalField(_("condolence money (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True)
    goods = models.CharField(_("goods given"), max_length=200, blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("logged"), auto_now_add=True)

    objects = CareScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["veteran", "-date"], name="visit_person_date"),
                   models.Index(fields=["org_unit", "-date"], name="visit_unit_date")]
        constraints = [models.CheckConstraint(condition=Q(money__isnull=True) | Q(money__gte=0),
                                              name="visit_money_not_negative")]

    def __str__(self) -> str:
        return f"{self.veteran} {self.occasion} {self.date}"

    def get_absolute_url(self) -> str:
        return reverse("care:visit_detail", args=[self.pk])


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="photos")
    file = models.ImageField(_("photo"), upload_to="visits/%Y/%m/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("visit__org_unit").as_manager()

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return self.file.name


LATE = Q(status=TaskStatus.DONE, completed_on__gt=models.F("due_date"))  # a done task visited after its due date


class DueVisitQuerySet(CareScopedQuerySet):
    def open(self) -> DueVisitQuerySet:
        return self.filter(status=TaskStatus.OPEN)


class DueVisit(models.Model):
    """待走访任务: a visit a rule says is due for a person in one period. ``(rule, veteran, period_key)`` is
    unique, which makes the nightly job idempotent: running it twice creates nothing new.

    The nightly job writes a million of these in one go, so the table keeps few indexes (every index and
    every foreign-key check is paid per row): ``org_unit`` and ``occasion`` are copies (of the person's unit,
    moved with the person by a transfer, ``services.person_records_follow``, and of the rule's occasion) without a database constraint, and
    the references that are usually empty have partial indexes."""

    # No index of its own: a rule's tasks are read only when the rule changes (a background job).
    rule = models.ForeignKey(VisitRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="tasks",
                             db_index=False)
    veteran = models.ForeignKey(Veteran, verbose_name=_("person"), on_delete=models.CASCADE, related_name="due_visits",
                                db_index=False)  # the unique (veteran, rule, period_key) index serves it
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.DO_NOTHING,
                                 related_name="+", db_index=False, db_constraint=False)
    occasion = models.ForeignKey(Occasion, verbose_name=_("occasion"), on_delete=models.DO_NOTHING,
                                 related_name="+", db_index=False, db_constraint=False)
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="tasks", db_index=False)
    life_event = models.ForeignKey(LifeEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks",
                                   db_index=False)
    period_key = models.CharField(_("period"), max_length=32)
    opens_on = models.DateField(_("open from"))
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    level = models.PositiveSmallIntegerField(_("escalated to"), choices=EscalationLevel.choices,
                                             default=EscalationLevel.STATION)
    notified_on = models.DateField(_("station reminded"), null=True, blank=True)
    escalated_on = models.DateField(_("escalated on"), null=True, blank=True)
    visit = models.ForeignKey(Visit, verbose_name=_("visit"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tasks", db_index=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The date of the visit that answered the task; after ``due_date`` the task was done late.
    completed_on = models.DateField(_("visited on"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+", db_index=False)
    cancel_reason = models.CharField(_("why no visit is needed"), max_length=200, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DueVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("due visit")
        verbose_name_plural = _("due visits")
        ordering = ["due_date", "id"]
        constraints = [
            # Person first: it is also the index of a person's tasks (one index fewer to write per task).
            models.UniqueConstraint(fields=["veteran", "rule", "period_key"], name="duevisit_unique_period"),
            models.CheckConstraint(condition=Q(opens_on__lte=models.F("due_date")), name="duevisit_opens_before_due"),
        ]
        indexes = [
            # A unit's open tasks in due order; carries what the tab counts test, so they read the index alone.
            models.Index(fields=["org_unit", "due_date", "id"], condition=Q(status="open"), name="duevisit_open_unit",
                         include=["opens_on", "level", "occasion_id"]),
            # All open tasks in due order: the first page of a street's (or the district's) worklist walks it.
            models.Index(fields=["due_date", "id"], condition=Q(status="open"), name="duevisit_open_due"),
            # One occasion's open tasks in due order: a rare occasion (birthdays, must-visits) filtered in a
            # street of 100,000 open tasks would otherwise read them all.
            models.Index(fields=["occasion", "due_date", "id"], condition=Q(status="open"),
                         name="duevisit_open_occasion"),
            models.Index(fields=["org_unit", "level"], condition=Q(status="open", level__gt=0),
                         name="duevisit_open_escalated"),
            models.Index(fields=["org_unit", "due_date", "id"], condition=Q(status="done"), name="duevisit_done_unit"),
            models.Index(fields=["campaign", "org_unit", "status"], condition=Q(campaign__isnull=False),
                         name="duevisit_campaign"),
            models.Index(fields=["life_event"], condition=Q(life_event__isnull=False), name="duevisit_life_event"),
            # A station's open tasks that answer a life event (its home page's "events waiting"): a few hundred
            # among a street's 100,000+ open tasks.
            models.Index(fields=["org_unit", "occasion"], condition=Q(status="open", life_event__isnull=False),
                         name="duevisit_open_life_event", include=["opens_on"]),
            models.Index(fields=["visit"], condition=Q(visit__isnull=False), name="duevisit_visit"),
            # Tasks nobody was told about yet (created by a recompute during the day): the nightly run finds
            # them here; the nightly run's own tasks are born reminded and never enter this index.
            models.Index(fields=["opens_on"], condition=Q(status="open", notified_on__isnull=True),
                         name="duevisit_unreminded"),
        ]

    def __str__(self) -> str:
        return f"{self.veteran} {self.occasion} {self.due_date}"

    @property
    def is_late(self) -> bool:
        """Visited after its due date (counted late in every figure: worklist, campaigns, the visit page)."""
        return self.status == TaskStatus.DONE and self.completed_on is not None and self.completed_on > self.due_date


class CareRun(models.Model):
    """One run of the nightly job: when, how far it got, what it created (a killed run stays 'running')."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    on_date = models.DateField(_("for date"))
    created = models.PositiveIntegerField(_("tasks created"), default=0)
    cancelled = models.PositiveIntegerField(_("tasks cancelled"), default=0)
    escalated = models.PositiveIntegerField(_("tasks escalated"), default=0)
    notified_units = models.PositiveIntegerField(_("units reminded"), default=0)
    # Tasks this run created already due, per unit id, until the units are told (kept with each chunk, so
    # that a run killed before telling anyone is told by the next run).
    pending_reminders = models.JSONField(_("reminders to send"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("reminder run")
        verbose_name_plural = _("reminder runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.on_date} {self.started_at:%H:%M}"
