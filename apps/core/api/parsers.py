"""Request parsers that refuse NUL characters (``\\x00``) before any field sees them.

PostgreSQL cannot store NUL in text: a NUL reaching a query (a code-table name looked up by a slug field, a
search term) raised inside the database driver and answered 500. DRF's ``CharField`` refuses NUL, but related
fields, filters and hand-written look-ups do not; checking the parsed body once covers every field of every
endpoint, present and future. The error names the top-level field(s) that carried it, like any 400.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

NUL_MESSAGE = _("Null characters are not allowed.")


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def refuse_nul(data) -> None:
    """Raise a 400 naming each top-level field whose value (or name) holds a NUL character."""
    if hasattr(data, "lists"):  # a QueryDict from a form body: every value of every key
        fields = [key for key, values in data.lists() if contains_nul(key) or contains_nul(values)]
    elif isinstance(data, dict):
        fields = [key for key, value in data.items() if contains_nul(key) or contains_nul(value)]
    else:
        fields = [api_settings.NON_FIELD_ERRORS_KEY] if contains_nul(data) else []
    if fields:
        raise ValidationError({(field.replace("\x00", "") or api_settings.NON_FIELD_ERRORS_KEY): [NUL_MESSAGE]
                               for field in fields})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Form fields are checked; uploaded files' contents are the files' own business."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        refuse_nul(result.data)
        return result
