"""The OpenAPI schema says what the API answers, errors included (issue 10, finding 26).

drf-spectacular documents the success of each operation only. Every operation here can also answer 401/403
(no or bad credentials, a missing role permission), an operation with query parameters or a body 400 (field errors),
one with a path parameter 404 (missing or outside the caller's area), one with a body 415 (not JSON). The
bodies are DRF's: ``{"detail": "…"}``, or for a 400 the field names with their messages.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: each field's name with its messages (``non_field_errors`` for the request as a "
                   "whole), or ``detail`` for a body that could not be read.",
    "additionalProperties": {},
}


def error(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class PortalAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        has_path = "{" in self.path
        query = [p["name"] for p in self._get_parameters() if p.get("in") == "query"] if self.method == "GET" else []
        has_query = bool(query)
        errors = {
            "401": error("Not authenticated (a bad or expired token).", DETAIL),
            "403": error("Not authenticated (no credentials), or not permitted.", DETAIL),
        }
        if has_body or has_query:
            errors["400"] = error("Invalid parameters or body.", FIELD_ERRORS)
        if has_path:
            errors["404"] = error("Not found, or outside the caller's area.", DETAIL)
        elif "page" in query:
            errors["404"] = error("No such page.", DETAIL)
        if has_body:
            errors["415"] = error("The body is not JSON.", DETAIL)
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses


# Text in PostgreSQL cannot hold NUL: every string a request takes is refused with it (400), and says so. The
# pattern holds the NUL character itself, which every regular-expression dialect reads alike.
NO_NUL_PATTERN = "^[^\x00]*$"


def _no_nul(schema: dict) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
        schema["pattern"] = NO_NUL_PATTERN
    for key in ("items", "additionalProperties"):
        _no_nul(schema.get(key))
    for sub in schema.get("properties", {}).values():
        _no_nul(sub)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            _no_nul(sub)


def document_no_nul(result, generator, request, public, **kwargs):
    """drf-spectacular post-processing hook: string parameters and request-body strings exclude NUL."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _no_nul(parameter.get("schema"))
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _no_nul(component)
    return result
