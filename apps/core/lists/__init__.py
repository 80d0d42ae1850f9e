"""The list kit: paging, tables, filters, the htmx partial rule and one generic scoped list view.

- ``paging``: ``keyset_page`` (large registers: row-comparison keyset, signed cursors bound to the order, capped
  count) and ``offset_page`` (small registers).
- ``tables``: ``Table`` with ``Column`` attributes (header, accessor, cell markup, CSS, sort key, export kind and
  width); rows are made in Python; the xlsx writer takes the columns as they are.
- ``filters``: ``ListFilterSet`` ("全部" as every empty choice), ``UnitChoiceFilter`` (path labels),
  ``SnapshotChoiceFilter`` (choices from memory, loaded when first needed), ``YearFilter``.
- ``views``: ``ScopedListView`` (``model.objects.visible_to(user)`` → FilterSet → Table → pager → page or htmx
  partial → ``?format=xlsx``) and ``xlsx_response`` for lists that are not one FilterSet (the audit tabs).
- ``htmx``: ``is_partial``, ``vary_on_htmx``, ``render_partial``.

Templates: ``components/list_page.html``, ``list_table.html``, ``filter_bar.html``, ``table.html``,
``keyset_pager.html``, ``pager.html``, ``form_page.html``, ``person_tab.html``.

A new list is a FilterSet, a Table and a view naming them (see ``apps/honors``: ``filters.py``, ``tables.py``,
``views.PlaqueListView``).
"""

from .htmx import is_partial, render_partial, vary_on_htmx

__all__ = ["is_partial", "render_partial", "vary_on_htmx"]
