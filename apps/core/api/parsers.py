"""NUL characters (``\\x00``) in request bodies: refused with a 400 naming the field, before any field sees them.

PostgreSQL cannot store NUL in text: a NUL reaching a query (a code-table name looked up by a slug field, a
search term) raised inside the database driver and answered 500. DRF's ``CharField`` refuses NUL, but related
fields do not. ``RefuseNulMixin`` checks every field of a serializer at once (nested lists and objects
included); unknown keys are ignored like any unknown key. The schema says so: every string a request takes has
the pattern ``NO_NUL_PATTERN`` (``apps.core.api.schema``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

NUL_MESSAGE = _("Null characters are not allowed.")


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


class RefuseNulMixin:
    """For serializers: a NUL in any writable field's value is a 400 on that field."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {name: [NUL_MESSAGE] for name, field in self.fields.items()
                      if not field.read_only and contains_nul(data.get(field.field_name))}
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)
