"""Files that hold personal data (visit photos, signed registers) are served only through scoped views."""

from __future__ import annotations

import mimetypes

from django.http import FileResponse, Http404


def private_file_response(field) -> FileResponse:
    """Send a stored file inline, never cached by browsers or proxies; a missing file answers 404.
    The caller has already found the record through ``visible_to(user)``."""
    if not field:
        raise Http404
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
