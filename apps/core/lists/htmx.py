"""One answer to "is this an htmx partial?" for every page.

A partial is an htmx request that is neither boosted (a whole page swapped into the body) nor a history restore
(htmx asks for the full page when its history cache misses, e.g. after a reload or a back button into a page
whose snapshot was evicted). The same URL then answers two shapes, so the response varies on ``HX-Request``:
without the Vary header a browser or proxy cache could give the fragment for a full navigation.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def is_partial(request) -> bool:
    """Whether ``request`` wants a fragment of the page (see the module docstring)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def vary_on_htmx(response):
    """Mark ``response`` as depending on ``HX-Request`` (returns it)."""
    patch_vary_headers(response, ("HX-Request",))
    return response


def render_partial(request, template_name: str, partial_template_name: str, context: dict, **kwargs):
    """Render the partial for an htmx partial request, the full page otherwise; ``Vary: HX-Request``."""
    template = partial_template_name if is_partial(request) else template_name
    return vary_on_htmx(render(request, template, context, **kwargs))
