"""Serializer fields that take what the schema says and nothing else.

DRF's ``CharField`` turns a number into text (``0`` → ``"0"``) and its ``BooleanField`` takes ``"yes"``, ``1`` or
``"off"``: the schema says ``string`` and ``boolean``, so anything else is a 400 here.
``STRICT_FIELD_MAPPING`` puts them in a ModelSerializer's ``serializer_field_mapping``.
"""

from __future__ import annotations

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


STRICT_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
    models.BooleanField: StrictBooleanField,
}
