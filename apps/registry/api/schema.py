"""Schema of the registry's name-valued fields: the names the API takes are listed (issue 10, finding 26).

A code-table field takes an entry's name and a unit field a division code; any other text is refused. The
schema therefore lists them (``enum``), read from the tables when the schema is served (code tables are data:
a schema fetched after an administrator adds an entry lists it), and the units among those the caller may see.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from apps.core.models import OrgUnit


class CodeNameFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.registry.api.serializers.CodeNameField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":  # a record may still name an entry no longer in use
            return {"type": "string"}
        user = getattr(getattr(auto_schema.view, "request", None), "user", None)
        if not getattr(user, "is_authenticated", False):
            # Generated for nobody (the system check, ``spectacular`` on the command line: a mock request): the
            # tables are not read, so the schema builds without a database; the schema served to a signed-in
            # caller lists the names.
            return {"type": "string"}
        names: list = list(self.target.get_queryset().order_by("sort_order", "code").values_list("name", flat=True))
        if self.target.allow_null:
            names.append(None)
        return {"type": "string", "enum": names}


class VisibleOrgUnitFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.registry.api.serializers.VisibleOrgUnitField"

    def map_serializer_field(self, auto_schema, direction):
        request = getattr(auto_schema.view, "request", None)
        user = getattr(request, "user", None)
        if direction == "response" or user is None:
            return {"type": "string", "pattern": r"^\d{12}$"}
        codes: list = list(OrgUnit.objects.visible_to(user).order_by("path").values_list("code", flat=True))
        if self.target.allow_null:
            codes.append(None)
        return {"type": "string", "enum": codes}


def document_filter_choices(result, generator, request, public, **kwargs):
    """drf-spectacular post-processing hook: the list's unit and code filters take ids; list those the caller may
    use (the same choices the FilterSet validates against), as the schema of each parameter."""
    from apps.core import reference

    from ..filters import CODE_FILTERS, VeteranFilterSet

    operation = result.get("paths", {}).get("/api/v1/veterans/", {}).get("get")
    user = getattr(request, "user", None)
    if operation is None or user is None:
        return result
    filterset = VeteranFilterSet(user=user, snapshot=reference.snapshot())
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if name == "unit" or name in CODE_FILTERS:
            ids = [int(value) for value, _label in filterset.filters[name].field.choices if value != ""]
            parameter["schema"] = {"type": "integer", "enum": ids}
    return result
