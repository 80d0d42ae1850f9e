"""Forms of the bureau-to-street liaison pages. They only collect input; the services decide and validate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.models import OrgUnit, User

from . import selectors
from .choices import LiaisonStatus
from .models import LiaisonPairing

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH_INPUT_FORMATS = ["%Y-%m", "%Y-%m-%d"]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        unit = obj.org_unit.name if obj.org_unit_id else ""
        return f"{obj.real_name or obj.username} ({unit})" if unit else (obj.real_name or obj.username)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return UserChoiceField.label_from_instance(self, obj)


class StreetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return obj.name


class PairingForm(forms.Form):
    department = forms.CharField(label=_("Bureau department"), max_length=100,
                                 help_text=_("For example 优抚科, 安置科, 就业创业科"))
    street = StreetChoiceField(label=_("Street/town"), queryset=OrgUnit.objects.none())
    members = UserMultipleChoiceField(label=_("Liaison officers"), queryset=User.objects.none(), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user: User, pairing: LiaisonPairing | None = None, **kwargs):
        if "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(pairing)
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = selectors.liaison_streets(user=user).filter(is_active=True) if pairing is None \
            else selectors.liaison_streets(user=user)
        self.fields["members"].queryset = selectors.member_choices(user=user, pairing=pairing)


    @staticmethod
    def initial_for(pairing: LiaisonPairing | None) -> dict:
        """The form's values for ``pairing`` (none for a new pairing)."""
        if pairing is None:
            return {}
        return {"department": pairing.department, "street": pairing.street_id,
                "members": [member.pk for member in pairing.members.all()], "is_active": pairing.is_active}


class MonthField(forms.DateField):
    """A month typed as ``YYYY-MM`` (``<input type="month">``); the first day of it."""

    input_formats = MONTH_INPUT_FORMATS
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class TaskForm(forms.Form):
    """Bureau staff: the whole item, inspection notes included."""

    month = MonthField(label=_("Month"))
    item = forms.CharField(label=_("Task"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    due_date = forms.DateField(label=_("Due date"), widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=LiaisonStatus.choices, initial=LiaisonStatus.PLANNED)
    feedback = forms.CharField(label=_("Street feedback"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    inspection_notes = forms.CharField(label=_("Inspection notes"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text=_("What the bureau found when checking the work"))

    def __init__(self, *args, user: User, pairing: LiaisonPairing, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.owner_choices(user=user, pairing=pairing)


class TaskReportForm(forms.Form):
    """Street stations: how the item is going."""

    status = forms.ChoiceField(label=_("Status"), choices=LiaisonStatus.choices)
    feedback = forms.CharField(label=_("Feedback"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("What was done, what is still needed"))


class MonthForm(forms.Form):
    """The month switcher of the list and summary pages."""

    month = MonthField(label=_("Month"), required=False)
