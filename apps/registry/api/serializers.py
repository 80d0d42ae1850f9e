"""Registry API serializers: masked on the way out, through the services on the way in.

Code-table fields (ethnic group, category, discharge mode, rank…) are written and read **by name**,
e.g. ``"discharge_mode": "自主就业"``; names are unique per table (``/api/v1/codes/`` lists them). The
responsible unit is given by its 12-digit division code. The ID number is write-only: responses carry
``id_number_masked`` only. Serializers hold no rules: validation of the ID number, the duplicate check,
encryption and history live in ``apps.registry.services``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS, PKOnlyObject
from rest_framework.settings import api_settings

from apps.core import reference
from apps.core.api.fields import STRICT_FIELD_MAPPING, StrictCharField
from apps.core.api.parsers import RefuseNulMixin
from apps.core.models import OrgUnit

from .. import services
from ..choices import CodeKind, Sex
from ..models import Code, FamilyMember, Veteran

CODE_HELP = _("Code-table entry by its name (see /api/v1/codes/?kind={kind}).")


def service_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a DRF 400 with field messages (non-field ones under non_field_errors)."""
    if hasattr(exc, "error_dict"):
        detail = {(api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
                  for field, messages in exc.message_dict.items()}
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return serializers.ValidationError(detail)


def context_map(context: dict, key: str, load) -> dict:
    """A look-up table loaded once per request (the serializer context is shared by every row)."""
    if key not in context:
        context[key] = load()
    return context[key]


def code_names(request=None) -> dict[int, str]:
    """Names of all codes, from the reference snapshot (no query when the request already read it)."""
    snapshot = reference.snapshot(request)
    return {pk: code.name for pk, code in snapshot.codes.items()}


def unit_codes_names(request=None) -> dict[int, tuple[str, str]]:
    snapshot = reference.snapshot(request)
    return {unit.pk: (unit.code, unit.name) for unit in snapshot.units}


class CodeNamesField(serializers.ManyRelatedField):
    """Many code-table entries by name; reads the ids a view attached with ``attach_code_ids`` if it did."""

    def to_internal_value(self, data):
        if not isinstance(data, list):  # DRF takes any iterable: an object's keys would be read as names
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)

    def get_attribute(self, instance):
        ids = getattr(instance, "code_ids", {}).get(self.source)
        if ids is not None:
            return [PKOnlyObject(pk=pk) for pk in ids]
        return super().get_attribute(instance)


class CodeNameField(serializers.SlugRelatedField):
    """A code-table entry by name. Reading maps the foreign key through one table of all codes per request
    instead of a join per field: fifteen joins would push PostgreSQL into its genetic planner (slow plans)."""

    @classmethod
    def many_init(cls, *args, **kwargs) -> CodeNamesField:
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs |= {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
        return CodeNamesField(**list_kwargs)

    def use_pk_only_optimization(self) -> bool:
        return True

    def to_representation(self, value) -> str | None:
        return context_map(self.context, "code_names", lambda: code_names(self.context.get("request"))).get(value.pk)


def attach_code_ids(veterans) -> None:
    """Categories and tags of a page of records: one light query per relation (ids only), instead of
    ``prefetch_related``, whose model instances cost more than the rest of the page's data."""
    by_pk = {veteran.pk: veteran for veteran in veterans}
    for veteran in by_pk.values():
        veteran.code_ids = {"categories": [], "tags": []}
    for name in ("categories", "tags"):
        through = Veteran._meta.get_field(name).remote_field.through
        rows = (through.objects.filter(veteran_id__in=list(by_pk))
                .order_by(*[f"code__{key}" for key in Code._meta.ordering])  # as ``veteran.categories.all()``
                .values_list("veteran_id", "code_id"))
        for veteran_id, code_id in rows:
            by_pk[veteran_id].code_ids[name].append(code_id)


def code_field(kind: CodeKind, **kwargs) -> CodeNameField:
    """A code-table reference by name; only entries in use are accepted on write."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", not kwargs.get("many", False))
    return CodeNameField(slug_field="name", queryset=Code.objects.of(kind),
                         help_text=format_lazy(CODE_HELP, kind=kind.value), **kwargs)


def label_from_model(fields: dict, model) -> None:
    """Declared fields take the model field's verbose name as label (form labels, schema titles)."""
    for name, field in fields.items():
        if field.label is None and not field.write_only:
            try:
                field.label = model._meta.get_field(field.source or name).verbose_name
            except FieldDoesNotExist:
                continue


class VisibleOrgUnitField(serializers.SlugRelatedField):
    """The responsible unit by division code, chosen among the units the caller may see."""

    def get_queryset(self):
        request = self.context.get("request")
        return OrgUnit.objects.visible_to(getattr(request, "user", None))

    def use_pk_only_optimization(self) -> bool:
        return True

    def to_representation(self, value) -> str | None:
        return context_map(self.context, "units", lambda: unit_codes_names(self.context.get("request")))[value.pk][0]


SIMPLE_FIELDS = (serializers.IntegerField, serializers.CharField, serializers.BooleanField, serializers.ChoiceField)


def representation_plan(fields) -> list[tuple[str, str, Any]]:
    """(name, kind, attribute or field) per readable field: "plain" values are returned as stored, "code"
    foreign keys are named through the code map, "date" is ISO 8601; anything else goes through its field."""
    plan = []
    for field in fields:
        simple_source = "." not in field.source and field.source != "*"
        if isinstance(field, CodeNameField) and simple_source:
            plan.append((field.field_name, "code", f"{field.source}_id"))
        elif type(field) is serializers.DateField and simple_source:
            plan.append((field.field_name, "date", field.source))
        elif type(field) in SIMPLE_FIELDS and simple_source:
            plan.append((field.field_name, "plain", field.source))
        else:
            plan.append((field.field_name, "field", field))
    return plan


# GB 11643: 17 digits and a check digit (or X), or an old 15-digit number. The check digit, the area and the birth
# date inside are checked too, which a pattern cannot say: the schema names the format ("gb11643").
ID_NUMBER_SCHEMA = {"type": "string", "format": "gb11643", "pattern": r"^(\d{17}[\dXx]|\d{15})$"}


@extend_schema_field(ID_NUMBER_SCHEMA)
class IdNumberField(StrictCharField):
    """A citizen ID number (write-only; validated by the services)."""


@extend_schema_field({**ID_NUMBER_SCHEMA, "pattern": r"^(|\d{17}[\dXx]|\d{15})$"})
class OptionalIdNumberField(StrictCharField):
    """A citizen ID number or nothing."""


class VeteranSerializer(RefuseNulMixin, serializers.ModelSerializer):
    """一人一档 over the API. ``id_number`` is write-only (create), ``id_number_masked`` read-only.

    On create, ``sex`` and ``birth_date`` may be omitted (they are taken from the ID number); if given,
    they must agree with it. Identity, responsible unit and status are not changed by update: transfers
    and closing have their own pages.
    """

    id_number = IdNumberField(write_only=True, max_length=30,
                              help_text=_("18 characters; an old 15-digit number is converted."))
    org_unit = VisibleOrgUnitField(slug_field="code", help_text=_("Division code (12 digits) of the responsible unit."))
    org_unit_name = serializers.SerializerMethodField()
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    birth_date = serializers.DateField(required=False)
    ethnic = code_field(CodeKind.ETHNIC)
    political = code_field(CodeKind.POLITICAL)
    education = code_field(CodeKind.EDUCATION)
    marital = code_field(CodeKind.MARITAL)
    health = code_field(CodeKind.HEALTH)
    primary_category = code_field(CodeKind.CATEGORY, required=True, allow_null=False)
    categories = code_field(CodeKind.CATEGORY, many=True)
    tags = code_field(CodeKind.TAG, many=True)
    branch = code_field(CodeKind.BRANCH)
    military_category = code_field(CodeKind.MILITARY_CATEGORY)
    rank = code_field(CodeKind.RANK)
    discharge_mode = code_field(CodeKind.DISCHARGE_MODE)
    certificate_type = code_field(CodeKind.CERTIFICATE)
    placement_unit_nature = code_field(CodeKind.UNIT_NATURE)
    employment = code_field(CodeKind.EMPLOYMENT)

    serializer_field_mapping = STRICT_FIELD_MAPPING  # text is text, a boolean true or false

    class Meta:
        model = Veteran
        fields = [
            "id", "org_unit", "org_unit_name", "status", "status_date", "name", "name_pinyin", "name_initials",
            "id_number", "id_number_masked", "sex", "birth_date", "ethnic", "political", "education", "marital",
            "health", "hukou_type", "hukou_address", "address", "phone", "primary_category", "categories", "tags",
            "enlist_date", "enlist_place", "discharge_date", "branch", "troop_code", "re_enlisted",
            "military_category", "rank", "discharge_mode", "certificate_type", "certificate_number", "report_date",
            "placement_unit", "placement_unit_nature", "employment", "notes", "created_at", "updated_at",
        ]
        read_only_fields = ["status", "status_date", "name_pinyin", "name_initials", "id_number_masked",
                            "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        label_from_model(fields, Veteran)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Update: identity and unit are fixed; they may be repeated unchanged (a PUT of a GET).
            fields["id_number"].required = False
            fields["org_unit"].required = False
        return fields

    def to_representation(self, instance: Veteran) -> dict[str, Any]:
        """What DRF's field-by-field representation gives (a test holds them equal), by a plan made once
        per serializer: the simple columns are read directly, codes through the name map. A page of 50
        records × 42 fields then costs about a millisecond instead of eight."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self._plan = representation_plan(self._readable_fields)
        names = context_map(self.context, "code_names", lambda: code_names(self.context.get("request")))
        result: dict[str, Any] = {}
        for name, kind, how in plan:
            if kind == "plain":
                result[name] = getattr(instance, how)
            elif kind == "code":
                pk = getattr(instance, how)
                result[name] = None if pk is None else names.get(pk)
            elif kind == "date":
                value = getattr(instance, how)
                result[name] = None if value is None else value.isoformat()
            else:
                attribute = how.get_attribute(instance)
                empty = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                result[name] = None if empty is None else how.to_representation(attribute)
        return result

    @extend_schema_field(OpenApiTypes.STR)
    def get_org_unit_name(self, veteran: Veteran) -> str:
        return context_map(self.context, "units", lambda: unit_codes_names(self.context.get("request")))[veteran.org_unit_id][1]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        veteran = self.instance
        if veteran is None:
            return attrs
        errors = {}
        if "id_number" in attrs:
            errors["id_number"] = _("The ID number of a record cannot be changed.")
        if "org_unit" in attrs and attrs["org_unit"].pk != veteran.org_unit_id:
            errors["org_unit"] = _("Use a transfer to move the record to another unit.")
        if attrs.get("sex") and attrs["sex"] != veteran.sex:
            errors["sex"] = _("The sex comes from the ID number and cannot be changed.")
        if attrs.get("birth_date") and attrs["birth_date"] != veteran.birth_date:
            errors["birth_date"] = _("The birth date comes from the ID number and cannot be changed.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Veteran:
        try:
            return services.veteran_register(actor=self.context["request"].user, **validated_data)
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc

    def update(self, instance: Veteran, validated_data: dict[str, Any]) -> Veteran:
        for fixed in ("id_number", "org_unit", "sex", "birth_date"):
            validated_data.pop(fixed, None)
        try:
            return services.veteran_update(actor=self.context["request"].user, veteran=instance, **validated_data)
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc


class VeteranUpdateSerializer(VeteranSerializer):
    """A record's change (PUT/PATCH): identity and unit are not part of it, so the schema leaves them out of the
    body. A client may still repeat them (a PUT of what GET returned): unchanged they are accepted, an empty ID
    number is taken as not given, and a change is refused as on ``VeteranSerializer``."""

    FIXED = ("id_number", "org_unit", "sex", "birth_date")

    def get_fields(self):
        fields = super().get_fields()
        for name in self.FIXED:
            fields[name].read_only = True
            fields[name].required = False
        fields.pop("id_number")  # write-only: with nothing to write, it is not a field of the change at all
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        veteran = self.instance
        errors = {}
        if data.get("id_number") not in (None, ""):
            errors["id_number"] = _("The ID number of a record cannot be changed.")
        if data.get("org_unit") not in (None, "") and data["org_unit"] != veteran.org_unit.code:
            errors["org_unit"] = _("Use a transfer to move the record to another unit.")
        if data.get("sex") not in (None, "") and data["sex"] != veteran.sex:
            errors["sex"] = _("The sex comes from the ID number and cannot be changed.")
        birth = veteran.birth_date.isoformat() if veteran.birth_date else None
        if data.get("birth_date") not in (None, "") and data["birth_date"] != birth:
            errors["birth_date"] = _("The birth date comes from the ID number and cannot be changed.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class FamilyMemberSerializer(RefuseNulMixin, serializers.ModelSerializer):
    """A family member of the veteran in the URL. ``id_number`` (optional) is write-only and validated."""

    id_number = OptionalIdNumberField(write_only=True, required=False, allow_blank=True, max_length=30,
                                      help_text=_("18 characters; an old 15-digit number is converted."))
    relation = code_field(CodeKind.RELATION)
    health = code_field(CodeKind.HEALTH)
    military_category = code_field(CodeKind.MILITARY_CATEGORY)
    rank = code_field(CodeKind.RANK)

    serializer_field_mapping = STRICT_FIELD_MAPPING  # text is text, a boolean true or false

    class Meta:
        model = FamilyMember
        fields = ["id", "veteran", "relation", "name", "id_number", "id_number_masked", "phone", "work_unit",
                  "health", "is_active_duty", "troop_location", "military_category", "rank"]
        read_only_fields = ["veteran", "id_number_masked"]

    def get_fields(self):
        fields = super().get_fields()
        label_from_model(fields, FamilyMember)
        return fields

    def save_through_service(self, *, veteran: Veteran, member: FamilyMember | None) -> FamilyMember:
        data = dict(self.validated_data)
        try:
            self.instance = services.family_member_save(actor=self.context["request"].user, veteran=veteran,
                                                        member=member, **data)
        except DjangoValidationError as exc:
            raise service_errors(exc) from exc
        return self.instance


class CodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Code
        fields = ["id", "kind", "code", "name", "parent", "is_key_recipient", "sort_order", "is_active"]
        read_only_fields = fields
