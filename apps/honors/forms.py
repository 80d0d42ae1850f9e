from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import MeritAward, PlaqueAction, PlaqueKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PHOTO = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"})


def _today_max(field: forms.DateField) -> forms.DateField:
    field.widget.attrs["max"] = timezone.localdate().isoformat()
    return field


class PlaqueRecordForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=PlaqueAction.choices, widget=forms.RadioSelect,
                               initial=PlaqueAction.HANG)
    kind = forms.ChoiceField(label=_("Plaque"), choices=PlaqueKind.choices, initial=PlaqueKind.GLORY_HOME)
    date = forms.DateField(label=_("Date"), widget=DATE)
    people = forms.CharField(label=_("People present"), max_length=200,
                             help_text=_("Staff and family members present, e.g. 街道 王某, 村 李某, 户主 张某"))
    signature = forms.FileField(label=_("Signed register (photo, JPG or PNG, at most 8 MB)"), widget=PHOTO)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_max(self.fields["date"])
        self.fields["date"].initial = timezone.localdate()


class MeritNoticeForm(forms.Form):
    member_name = forms.CharField(label=_("Serving member"), max_length=50,
                                  help_text=_("The family member in the forces whom the notice is about"))
    award = forms.ChoiceField(label=_("Award"), choices=MeritAward.choices)
    notice_date = forms.DateField(label=_("Notice received"), widget=DATE)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_max(self.fields["notice_date"])
        self.fields["notice_date"].initial = timezone.localdate()


class MeritDeliveryForm(forms.Form):
    delivered_on = forms.DateField(label=_("Delivered on"), widget=DATE)
    deliverers = forms.CharField(label=_("Delivered by"), max_length=200,
                                 help_text=_("e.g. 街道 王某, 人武部 李某"))
    signature = forms.FileField(label=_("Signed receipt (photo, JPG or PNG, at most 8 MB)"), widget=PHOTO)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_max(self.fields["delivered_on"])
        self.fields["delivered_on"].initial = timezone.localdate()
