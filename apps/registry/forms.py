from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.forms import OrgUnitChoiceField
from apps.core.models import OrgUnit, User

from . import services
from .choices import AttachmentKind, CardEventKind, CardType, CodeKind, HukouType, Sex, VeteranStatus
from .models import CareEntitlement, Code, FamilyMember, Veteran
from .services import VETERAN_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def code_field(kind: CodeKind, label, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=Code.objects.of(kind), label=label, required=required)


class VeteranForm(forms.ModelForm):
    """Identity, service, placement and tags. Create adds the ID number and the responsible unit."""

    SECTIONS = [
        (_("Identity"), ["name", "id_number", "sex", "birth_date", "org_unit", "ethnic", "political", "education",
                         "marital", "health", "hukou_type", "hukou_address", "address", "phone"]),
        (_("Categories"), ["primary_category", "categories", "tags", "employment"]),
        (_("Service"), ["enlist_date", "enlist_place", "discharge_date", "branch", "troop_code", "re_enlisted",
                        "military_category", "rank", "discharge_mode", "certificate_type", "certificate_number"]),
        (_("Placement"), ["report_date", "placement_unit", "placement_unit_nature", "notes"]),
    ]

    categories = forms.ModelMultipleChoiceField(queryset=Code.objects.of(CodeKind.CATEGORY), required=False,
                                                label=_("Collection categories"), widget=forms.CheckboxSelectMultiple)
    tags = forms.ModelMultipleChoiceField(queryset=Code.objects.of(CodeKind.TAG), required=False, label=_("Tags"),
                                          widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Veteran
        fields = [f for f in VETERAN_FIELDS]
        widgets = {name: DATE for name in ("enlist_date", "discharge_date", "report_date")} | {
            "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for _name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
                field.queryset = field.queryset.filter(is_active=True)
        self.fields["primary_category"].required = True
        self.fields["hukou_type"].choices = [("", "---------"), *HukouType.choices]


class VeteranCreateForm(VeteranForm):
    id_number = forms.CharField(label=_("ID number"), max_length=30,
                                help_text=_("18 characters; an old 15-digit number is converted."))
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("from the ID number")), *Sex.choices], required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE,
                                 help_text=_("Leave empty to take it from the ID number."))
    org_unit = OrgUnitChoiceField(label=_("Responsible unit"), queryset=OrgUnit.objects.none())

    field_order = ["name", "id_number", "sex", "birth_date", "org_unit"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        units = OrgUnit.objects.visible_to(user)
        self.fields["org_unit"].queryset = units
        if user.org_unit_id and units.filter(pk=user.org_unit_id).exists():
            self.fields["org_unit"].initial = user.org_unit_id

    def clean(self):
        # Check the ID number at once, with the sex and birth date typed beside it (the service checks again).
        data = super().clean()
        if data.get("id_number"):
            try:
                services.parse_id_number(data["id_number"], sex=data.get("sex") or None,
                                         birth_date=data.get("birth_date"))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return data


class TransferForm(forms.Form):
    to_unit = OrgUnitChoiceField(label=_("To unit in the district"), queryset=OrgUnit.objects.none(), required=False)
    destination = forms.CharField(label=_("Or: moved out of the district to"), max_length=200, required=False)
    date = forms.DateField(label=_("Date"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any unit of the district may receive a record: the sender need not see the receiver's area.
        self.fields["to_unit"].queryset = OrgUnit.objects.filter(is_active=True)


class CloseForm(forms.Form):
    status = forms.ChoiceField(label=_("Close as"), choices=[(VeteranStatus.DECEASED, VeteranStatus.DECEASED.label),
                                                             (VeteranStatus.CANCELLED, VeteranStatus.CANCELLED.label)])
    date = forms.DateField(label=_("Date"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class FamilyMemberForm(forms.ModelForm):
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)

    class Meta:
        model = FamilyMember
        fields = ["relation", "name", "phone", "work_unit", "health", "is_active_duty", "troop_location",
                  "military_category", "rank"]


class CareEntitlementForm(forms.ModelForm):
    class Meta:
        model = CareEntitlement
        fields = ["category", "disability_grade", "disability_nature", "benefit", "monthly_amount", "support_mode",
                  "start_date", "end_date"]
        widgets = {"start_date": DATE, "end_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].required = True
        self.fields["disability_grade"].widget.attrs.update({"min": 1, "max": 10})


class CardCreateForm(forms.Form):
    card_type = forms.ChoiceField(label=_("Card type"), choices=CardType.choices)


class CardEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Event"), choices=CardEventKind.choices)
    date = forms.DateField(label=_("Date"), widget=DATE)
    number = forms.CharField(label=_("Card number"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("File (PDF, JPG or PNG, at most 10 MB)"))


def form_sections(form) -> list[tuple[str, list]]:
    """The form's bound fields grouped under the section titles, in order."""
    return [(title, [form[name] for name in names if name in form.fields]) for title, names in form.SECTIONS]
