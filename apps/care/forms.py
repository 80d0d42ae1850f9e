"""Care forms: they parse what the user typed; the services check the rules and save."""

from __future__ import annotations

from django import forms
from django.forms.models import ModelChoiceIteratorValue
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.forms import OrgUnitChoiceField
from apps.core.models import OrgUnit, User
from apps.registry.choices import CodeKind
from apps.registry.forms import DATE
from apps.registry.models import Code, FamilyMember, Veteran

from .choices import Calendar, VisitMode
from .models import Occasion, VisitRule

TEXT = {"rows": 2}


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.ImageField):
    """Several JPG/PNG photos in one input; each is opened with Pillow, so a renamed non-image is refused."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png", "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleImageField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class WorklistFilterForm(forms.Form):
    """The worklist's filters: occasion, unit (within the user's scope) and a due date from the calendar."""

    occasion = forms.ModelChoiceField(label=_("Occasion"), queryset=Occasion.objects.none(), required=False,
                                      empty_label=_("All occasions"))
    unit = OrgUnitChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none(), required=False,
                              empty_label=_("All my units"))
    due = forms.DateField(label=_("Due on"), required=False, widget=DATE)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occasion"].queryset = Occasion.objects.filter(is_active=True, is_life_event=False)
        self.fields["unit"].queryset = OrgUnit.objects.visible_to(user).only("id", "name", "code", "depth", "path")
        # One plain query per drop-down (a model choice field iterates with a server-side cursor: three round
        # trips each), and the objects kept by id: the worklist names its rows' units and occasions from them.
        self.objects = {}
        for name in ("occasion", "unit"):
            field = self.fields[name]
            objects = list(field.queryset)
            field.choices = [("", field.empty_label)] + [
                (ModelChoiceIteratorValue(obj.pk, obj), field.label_from_instance(obj)) for obj in objects]
            self.objects[name] = {obj.pk: obj for obj in objects}


class VisitForm(forms.Form):
    occasion = forms.ModelChoiceField(label=_("Occasion"), queryset=Occasion.objects.none())
    date = forms.DateField(label=_("Visit date"), widget=DATE)
    mode = forms.ChoiceField(label=_("How"), choices=VisitMode.choices, initial=VisitMode.HOME)
    visitors = forms.CharField(label=_("Visitors"), max_length=200,
                               help_text=_("Who made the visit, e.g. the station staff and the village cadre"))
    family_member = forms.ModelChoiceField(label=_("Family member visited"), queryset=FamilyMember.objects.none(),
                                           required=False, empty_label=_("The person themselves"))
    content = forms.CharField(label=_("What was discussed"), widget=forms.Textarea(attrs=TEXT), required=False)
    needs = forms.CharField(label=_("Needs found"), widget=forms.Textarea(attrs=TEXT), required=False)
    help_given = forms.CharField(label=_("Help given"), widget=forms.Textarea(attrs=TEXT), required=False)
    money = forms.DecimalField(label=_("Condolence money (yuan)"), max_digits=10, decimal_places=2, required=False)
    goods = forms.CharField(label=_("Goods given"), max_length=200, required=False)
    follow_up = forms.CharField(label=_("Follow-up"), widget=forms.Textarea(attrs=TEXT), required=False)
    photos = MultipleImageField(label=_("Photos (JPG or PNG, several allowed)"), required=False)

    def __init__(self, *args, user: User, veteran: Veteran, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occasion"].queryset = Occasion.objects.filter(is_active=True)
        self.fields["family_member"].queryset = FamilyMember.objects.visible_to(user).filter(veteran=veteran)
        self.fields["date"].initial = timezone.localdate()
        self.fields["visitors"].initial = str(user)


class LifeEventForm(forms.Form):
    occasion = forms.ModelChoiceField(label=_("Event"), queryset=Occasion.objects.none())
    date = forms.DateField(label=_("Date"), widget=DATE)
    description = forms.CharField(label=_("What happened"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs=TEXT))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occasion"].queryset = Occasion.objects.filter(is_active=True, is_life_event=True)
        self.fields["date"].initial = timezone.localdate()


class TaskCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


def _codes(kind: CodeKind, label) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(label=label, queryset=Code.objects.of(kind), required=False,
                                          widget=forms.CheckboxSelectMultiple)


class VisitRuleForm(forms.ModelForm):
    """A visit rule, all of it. The model is not validated here: ``services.rule_save`` checks the rule and
    names the field of each problem."""

    SECTIONS = [
        (_("Rule"), ["name", "kind", "occasion", "home_visit_required", "is_active"]),
        (_("When"), ["interval_months", "due_within_days", "event_occasions", "calendar", "month", "day",
                     "lead_days"]),
        (_("Whom"), ["everyone", "key_recipients_only", "min_age", "max_age", "categories", "care_categories",
                     "discharge_modes", "tags", "org_units"]),
        (_("Escalation"), ["escalate_street_days", "escalate_bureau_days"]),
    ]
    M2M = ("event_occasions", "categories", "care_categories", "discharge_modes", "tags", "org_units")

    event_occasions = forms.ModelMultipleChoiceField(label=_("Triggering events"), queryset=Occasion.objects.none(),
                                                     required=False, widget=forms.CheckboxSelectMultiple)
    categories = _codes(CodeKind.CATEGORY, _("Collection categories"))
    care_categories = _codes(CodeKind.CARE_CATEGORY, _("Priority-care categories"))
    discharge_modes = _codes(CodeKind.DISCHARGE_MODE, _("Discharge modes"))
    tags = _codes(CodeKind.TAG, _("Tags"))
    org_units = forms.ModelMultipleChoiceField(label=_("Units"), queryset=OrgUnit.objects.none(), required=False,
                                               widget=forms.SelectMultiple(attrs={"size": 8}),
                                               help_text=_("People of these units and the units below them"))

    class Meta:
        model = VisitRule
        fields = ["name", "kind", "occasion", "home_visit_required", "is_active", "interval_months",
                  "due_within_days", "calendar", "month", "day", "lead_days", "everyone", "key_recipients_only",
                  "min_age", "max_age", "escalate_street_days", "escalate_bureau_days"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occasion"].queryset = Occasion.objects.filter(is_active=True, is_life_event=False)
        self.fields["event_occasions"].queryset = Occasion.objects.filter(is_life_event=True)
        self.fields["org_units"].queryset = OrgUnit.objects.visible_to(user)
        self.fields["org_units"].label_from_instance = lambda u: f"{'— ' * (u.depth - 1)}{u.name}"
        self.fields["calendar"].choices = [("", "---------"), *Calendar.choices]
        for name in self.M2M:
            if self.instance.pk:
                self.initial[name] = list(getattr(self.instance, name).all())
        for name in ("interval_months", "due_within_days", "month", "day", "lead_days", "min_age", "max_age",
                     "escalate_street_days", "escalate_bureau_days"):
            # Negative numbers reach the service, which explains them in words.
            self.fields[name].min_value = None
            self.fields[name].validators = []
            self.fields[name].widget.attrs.pop("min", None)

    def _post_clean(self):
        # Copy the values onto the instance but leave validation to services.rule_save.
        opts = self._meta
        self.instance = forms.models.construct_instance(self, self.instance, opts.fields, opts.exclude)

    def m2m(self) -> dict:
        return {name: self.cleaned_data.get(name) or [] for name in self.M2M}


class OccasionForm(forms.ModelForm):
    class Meta:
        model = Occasion
        fields = ["code", "name", "group", "is_life_event", "sort_order", "is_active"]


def form_sections(form) -> list[tuple[str, list]]:
    return [(title, [form[name] for name in names if name in form.fields]) for title, names in form.SECTIONS]
