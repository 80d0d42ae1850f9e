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
        has_query = self.method == "GET" and any(p.get("in") == "query" for p in self._get_parameters())
        errors = {
            "401": error("Not authenticated (a bad or expired token).", DETAIL),
            "403": error("Not authenticated (no credentials), or not permitted.", DETAIL),
        }
        if has_body or has_query:
            errors["400"] = error("Invalid parameters or body.", FIELD_ERRORS)
        if has_path:
            errors["404"] = error("Not found, or outside the caller's area.", DETAIL)
        if has_body:
            errors["415"] = error("The body is not JSON.", DETAIL)
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses
