from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for paging and sorting links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


def _model(label: str):
    from django.apps import apps

    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


@register.filter
def model_label(label: str) -> str:
    """``core.OrgUnit`` → the model's translated name (组织机构)."""
    model = _model(label)
    return str(model._meta.verbose_name) if model else label


@register.filter
def field_label(field: str, label: str) -> str:
    """A field's translated name on the model named by ``label``."""
    model = _model(label)
    if model is None:
        return field
    try:
        return str(model._meta.get_field(field).verbose_name)
    except Exception:  # noqa: BLE001 - unknown or renamed field: show its code name
        return field


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label) -> str:
    """A column header that sorts by ``key``; clicking again reverses; the cursor is reset."""
    from django.utils.html import format_html

    params = context["request"].GET.copy()
    current = params.get("ordering", "-id")
    target = f"-{key}" if current == key else key
    params["ordering"] = target
    params.pop("after", None)
    params.pop("before", None)
    arrow = "↑" if current == key else ("↓" if current == f"-{key}" else "")
    url = "?" + params.urlencode()
    return format_html('<a href="{}" hx-get="{}" hx-target="#veteran-table" hx-push-url="true">{} {}</a>', url, url,
                       label, arrow)
