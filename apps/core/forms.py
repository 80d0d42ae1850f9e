from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from .choices import AccessAction, Role
from .lists.filters import ALL
from .models import OrgUnit, User


def apply_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it, else on top.

    A stale write (``concurrency.StaleWrite``) also brings the form up to the current version: the fields
    others changed take their current values, the editor's other changes stay.
    """
    from .concurrency import StaleWrite, refresh

    if isinstance(exc, StaleWrite):
        refresh(form, exc)
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class OrgUnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return f"{'— ' * (obj.depth - 1)}{obj.name} ({obj.code})"


class OrgUnitCreateForm(forms.Form):
    parent = OrgUnitChoiceField(label=_("Parent unit"), queryset=OrgUnit.objects.none(), required=False)
    code = forms.RegexField(label=_("Division code"), regex=r"^\d{12}$", max_length=12,
                            error_messages={"invalid": _("A statistical division code has exactly 12 digits.")})
    name = forms.CharField(label=_("Name"), max_length=100)
    is_station = forms.BooleanField(label=_("Has a service station"), required=False, initial=True)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = OrgUnit.objects.visible_to(user).filter(depth__lt=3)
        if not user.sees_whole_district:
            self.fields["parent"].required = True


class OrgUnitEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_station = forms.BooleanField(label=_("Has a service station"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class UserFormBase(forms.Form):
    real_name = forms.CharField(label=_("Real name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    org_unit = OrgUnitChoiceField(label=_("Org unit"), queryset=OrgUnit.objects.none(), required=False)
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = OrgUnit.objects.visible_to(user)

    def clean(self):
        data = super().clean()
        roles = set(data.get("roles") or [])
        if roles & {Role.STREET_STATION, Role.VILLAGE_STATION} and not data.get("org_unit"):
            self.add_error("org_unit", _("Station staff must belong to an org unit."))
        unit = data.get("org_unit")
        if unit is not None:
            if Role.VILLAGE_STATION in roles and unit.depth != 3:
                self.add_error("org_unit", _("A community/village station user belongs to a community or village."))
            if Role.STREET_STATION in roles and unit.depth != 2:
                self.add_error("org_unit", _("A street/town station user belongs to a street or town."))
        return data


class UserCreateForm(UserFormBase):
    username = forms.RegexField(label=_("User name"), regex=r"^[A-Za-z0-9_.@-]{3,150}$", max_length=150,
                                error_messages={"invalid": _("Use 3 or more letters, digits or . @ - _")})
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False,
                                help_text=password_validators_help_text_html())
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    field_order = ["username", "real_name", "phone", "email", "org_unit", "roles", "password1", "password2"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return username

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserEditForm(UserFormBase):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class AuditFilterForm(forms.Form):
    TABS = [("history", _("Data changes")), ("access", _("Sensitive access")), ("logins", _("Logins")),
            ("failures", _("Failed logins"))]
    tab = forms.ChoiceField(choices=TABS, required=False, widget=forms.HiddenInput)
    user = forms.CharField(label=_("User"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    model = forms.CharField(label=_("Record type"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", ALL), *AccessAction.choices])
    q = forms.CharField(label=_("Object"), required=False)


class TokenForm(forms.Form):
    token = forms.RegexField(label=_("6-digit code"), regex=r"^\d{6}$", max_length=6,
                             error_messages={"invalid": _("Enter the 6 digits shown by your authenticator app.")},
                             widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class LoginForm(AuthenticationForm):
    """Login with a plain Chinese message that also states the lockout rule.

    The user name is checked against its length before the password is tried: AuthenticationForm only sets the
    widget's maxlength, and a longer name reached the lockout table (255 characters) and failed there."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 150))

    def get_invalid_login_error(self) -> forms.ValidationError:
        return forms.ValidationError(
            _("Wrong user name or password. After %(limit)d failed attempts the account is locked for %(minutes)d minutes."),
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT, "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        )
