"""Edit forms carry the version of the record they edit (apps.core.concurrency): tests that post an edit form
without showing it first send a version that checks no field."""

import re

from apps.core.concurrency import version_token


def any_version(obj) -> str:
    return version_token(obj, [])


def form_fields(html: str) -> dict:
    """The values a browser would post from a rendered form (inputs, selected options, checked boxes, textareas)."""
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        kind = kind.group(1) if kind else "text"
        if kind in ("checkbox", "radio") and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data.setdefault(name.group(1), []).append(value.group(1) if value else ("on" if kind == "checkbox" else ""))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        data[name] = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = [body.strip()]
    return {key: value if len(value) != 1 else value[0] for key, value in data.items()}
