"""Optimistic concurrency for edit forms and API updates: a stale write is refused, not silently applied.

A record's *version* is a token made from the values of the fields an editor writes (many-to-many
included), taken when the form is shown (a hidden ``version`` field) or the API record is read (its
``ETag``). The update service locks the row and compares: when another save changed one of those
fields meanwhile, the write is refused with :class:`StaleWrite`, which names the fields that changed
and their current values. The token is computed from the row itself, so it follows every writer
(imports, bulk updates, the admin site) without a column to bump; a change back to the same value is
no conflict.

The token is signed (a tampered token reads as stale) and carries the names of its fields, so the
service that checks it needs no field list.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import APIException

VERSION_FIELD = "version"
_SALT = "apps.core.concurrency"
_DIGEST_BYTES = 6


def _field(instance: models.Model, name: str) -> models.Field | None:
    try:
        return instance._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _raw(instance: models.Model, name: str):
    field = _field(instance, name)
    if field is None:
        return None
    if field.many_to_many:
        return sorted(getattr(instance, name).values_list("pk", flat=True))
    return field.value_from_object(instance)


def _digest(value) -> bytes:
    data = json.dumps(value, default=str, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(data).digest()[:_DIGEST_BYTES]


def _versioned(field: models.Field | None) -> bool:
    if field is None or getattr(field, "auto_now", False):
        return False
    return bool(field.concrete or (field.many_to_many and not field.auto_created))


def model_fields(instance: models.Model, names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are fields of the model (a form's extra fields, reverse relations and
    ``auto_now`` stamps drop out)."""
    return [name for name in names if name != VERSION_FIELD and _versioned(_field(instance, name))]


def version_token(instance: models.Model, fields: Sequence[str]) -> str:
    """The version of ``instance`` over ``fields`` as they are now in the database row loaded."""
    fields = model_fields(instance, fields)
    digests = b"".join(_digest(_raw(instance, name)) for name in fields)
    return signing.dumps({"f": fields, "d": base64.urlsafe_b64encode(digests).decode()}, salt=_SALT, compress=True)


def _decode(token: str) -> tuple[list[str], bytes] | None:
    try:
        data = signing.loads(token, salt=_SALT)
        fields, digests = [str(name) for name in data["f"]], base64.urlsafe_b64decode(data["d"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if len(digests) != len(fields) * _DIGEST_BYTES:
        return None
    return fields, digests


def changed_fields(instance: models.Model, token: str) -> list[str] | None:
    """The fields whose value differs from the version ``token`` was made from; None when the token is unreadable."""
    decoded = _decode(token)
    if decoded is None:
        return None
    fields, digests = decoded
    if model_fields(instance, fields) != fields:
        return None
    return [name for i, name in enumerate(fields)
            if _digest(_raw(instance, name)) != digests[i * _DIGEST_BYTES:(i + 1) * _DIGEST_BYTES]]


def display_value(instance: models.Model, name: str) -> str:
    """A field's current value as a person reads it (names of codes, labels of choices)."""
    field = _field(instance, name)
    empty = _("(empty)")
    if field is None:
        return ""
    if not field.editable or name.endswith(("_hash", "_encrypted")):
        return _("(changed)")
    if field.many_to_many:
        return "、".join(str(obj) for obj in getattr(instance, name).all()) or empty
    if field.is_relation:
        related = getattr(instance, name)
        return str(related) if related is not None else empty
    if field.choices:
        value = getattr(instance, name)
        return str(dict(field.flatchoices).get(value, value)) if value not in (None, "") else empty
    value = getattr(instance, name)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return empty if value in (None, "") else str(value)


def field_label(instance: models.Model, name: str, labels: dict | None = None) -> str:
    if labels and name in labels:
        return str(labels[name])
    field = _field(instance, name)
    return str(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else name


class StaleWrite(ValidationError):
    """Someone else saved the record after the editor read it; nothing was written."""

    def __init__(self, instance: models.Model, changed: list[str] | None, labels: dict | None = None,
                 fields: Sequence[str] | None = None):
        self.instance, self.changed = instance, changed or []
        # The current version over the same fields: a form shown again with it saves over the current values.
        self.fields = list(fields) if fields else None
        self.current = {name: display_value(instance, name) for name in self.changed}
        self.labels = {name: field_label(instance, name, labels) for name in self.changed}
        if changed:
            detail = "；".join(f"{self.labels[name]}：{self.current[name]}" for name in self.changed)
            message = _("Someone else saved this record after you opened it; your changes were not saved. "
                        "They changed: %(changes)s. The form now shows their values for these fields: check your "
                        "changes and save again.") % {"changes": detail}
        else:
            message = _("Someone else saved this record after you opened it, or the form is out of date; your "
                        "changes were not saved. Open the record again and repeat your changes.")
        super().__init__(message, code="stale")

    def as_api(self) -> dict:
        """The body of a 412 answer: the message and each changed field with its current value."""
        return {"detail": self.messages[0], "code": "stale",
                "changed": [{"field": name, "label": self.labels[name], "current": self.current[name]}
                            for name in self.changed]}


def check_version(instance: models.Model, token: str | None, *, labels: dict | None = None) -> None:
    """Refuse a stale write. Call it on the row locked for update (``select_for_update``) in the
    transaction that writes, so that no other save slips in between. ``None`` means "no version given"
    (internal callers, an API request without ``If-Match``, a new record's empty field) and is not checked;
    the forms of existing records require theirs (``require_version``)."""
    if not token:
        return
    changed = changed_fields(instance, token)
    if changed is None or changed:
        decoded = _decode(token)
        raise StaleWrite(instance, changed, labels, fields=decoded[0] if decoded else None)


def lock_and_check(instance: models.Model, token: str | None, *, labels: dict | None = None) -> models.Model:
    """Lock the row of ``instance`` (inside the caller's transaction) and check the version against it."""
    if not token or instance.pk is None:
        return instance
    locked = instance.__class__._base_manager.select_for_update().get(pk=instance.pk)
    check_version(locked, token, labels=labels)
    return locked


class VersionField(forms.CharField):
    """The hidden field that carries the version a form was shown with."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)  # a missing version is a form error on top (require_version)
        super().__init__(**kwargs)


MISSING = gettext_lazy("This form is out of date (its version is missing): open the record again and repeat your "
                       "changes.")


def stamp(form: forms.BaseForm, instance: models.Model | None, fields: Sequence[str] | None = None) -> None:
    """Put the version of ``instance`` into the form's hidden ``version`` field (added if the form has none).

    ``fields`` defaults to the form's fields that are fields of the model. Call it on an unbound form.
    """
    if VERSION_FIELD not in form.fields:
        form.fields[VERSION_FIELD] = VersionField()
    if instance is not None and instance.pk is not None:
        form.fields[VERSION_FIELD].initial = version_token(instance, fields or list(form.fields))


def _form_value(form: forms.BaseForm, instance: models.Model, name: str):
    """A field's current value as the form posts it (a month field posts ``2026-12``, a choice its key)."""
    field = _field(instance, name)
    if field.many_to_many:
        return [str(pk) for pk in _raw(instance, name)]
    value = field.value_from_object(instance)
    if isinstance(value, bool):
        return "on" if value else None
    form_field = form.fields[name]
    shown = form_field.widget.format_value(form_field.prepare_value(value))
    if isinstance(shown, list):
        shown = shown[0] if shown else ""
    return "" if shown is None else str(shown)


def refresh(form: forms.BaseForm, exc: StaleWrite, fields: Sequence[str] | None = None) -> None:
    """After a refused stale write: the form takes the current values of the fields others changed (so that
    saving again does not revert them) and the current version; the editor's other changes stay."""
    instance = exc.instance
    data = form.data.copy()
    for name in exc.changed:
        if name not in form.fields:
            continue
        key, value = form.add_prefix(name), _form_value(form, instance, name)
        if isinstance(value, list):
            data.setlist(key, value)
        elif value is None:
            data.pop(key, None)
        else:
            data[key] = value
    data[form.add_prefix(VERSION_FIELD)] = version_token(instance, exc.fields or fields or list(form.fields))
    form.data = data


def require_version(form: forms.BaseForm, instance: models.Model | None) -> forms.BaseForm:
    """Give a bound edit form its ``version`` field; editing an existing record without one is a form error
    (shown on top: a hidden field's own error would not be seen)."""
    if VERSION_FIELD not in form.fields:
        form.fields[VERSION_FIELD] = VersionField()
    if instance is None or instance.pk is None:
        return form
    form_clean = form.clean

    def clean():
        data = form_clean()
        if not form.cleaned_data.get(VERSION_FIELD):
            raise ValidationError(MISSING, code="version_missing")
        return data

    form.clean = clean
    return form


# --- the API: ETag on read, If-Match on update --------------------------------------------------------


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = gettext_lazy("Someone else changed this record since you read it.")
    default_code = "stale"


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = gettext_lazy("Send the record's ETag in an If-Match header (read the record first).")
    default_code = "version_required"


class VersionedUpdateMixin:
    """For DRF viewsets with retrieve and update: the record's version is its ``ETag``; PUT/PATCH with
    ``If-Match`` answers 412 (with the fields others changed and their current values) when it is stale.

    Without ``If-Match`` the update is not checked unless ``API_REQUIRE_IF_MATCH`` is set (then 428).
    ``version_fields`` are the model fields the version covers (default: the serializer's writable fields).
    """

    version_fields: Sequence[str] = ()

    def get_version_fields(self) -> list[str]:
        if self.version_fields:
            return list(self.version_fields)
        serializer = self.get_serializer()
        return [field.source for field in serializer.fields.values() if not field.read_only and field.source != "*"]

    def etag(self, instance: models.Model) -> str:
        return f'"{version_token(instance, self.get_version_fields())}"'

    def update(self, request, *args, **kwargs):
        header = request.headers.get("If-Match", "").strip()
        if header.startswith("W/"):
            header = header[2:]
        token = header.strip('"') if header and header != "*" else None
        if not header and settings.API_REQUIRE_IF_MATCH:
            raise PreconditionRequired
        with transaction.atomic():
            if token is not None:
                try:
                    lock_and_check(self.get_object(), token)
                except StaleWrite as exc:
                    raise PreconditionFailed(exc.as_api()) from exc
            response = super().update(request, *args, **kwargs)
        if response.status_code == 200:
            response["ETag"] = self.etag(self.get_object())
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "action", None) == "retrieve" and response.status_code == 200 and "ETag" not in response:
            response["ETag"] = self.etag(self.get_object())
        return response
