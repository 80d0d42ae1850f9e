"""The list kit: paging, tables, filters, the htmx partial rule and one generic scoped list view.

Import the pieces from their modules (``apps.core.lists.paging`` …); ``is_partial`` is here because every view
needs it."""

from .htmx import is_partial, render_partial, vary_on_htmx

__all__ = ["is_partial", "render_partial", "vary_on_htmx"]
