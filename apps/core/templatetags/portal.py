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
