"""Keyset paging: the next page starts after the last row shown, so page 10,000 costs what page 1 costs.

The cursor is the last (or first) row's sort values and the order they were taken in, signed so that it cannot
be forged into a filter. A cursor that does not fit the page's order (a link kept from another sorting, an edited
or truncated one) starts from the first page. The total is counted up to a cap; beyond it the page says "more than N".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core import signing
from django.db.models import Q, QuerySet

COUNT_CAP = 10_000
# A search is counted to a lower cap: a common surname matches 9,000 people of a street, and counting them all
# would read 70,000 entries of the name index; "more than 1000" tells the user to narrow the search.
SEARCH_COUNT_CAP = 1_000
SALT = "registry.keyset"


@dataclass
class KeysetPage:
    rows: list
    size: int
    total: int
    total_capped: bool
    next_cursor: str = ""
    prev_cursor: str = ""
    is_first: bool = True
    params: dict = field(default_factory=dict)


def _order(queryset: QuerySet) -> list[tuple[str, bool]]:
    """(field, descending) pairs of the queryset's ordering."""
    return [(f.lstrip("-"), f.startswith("-")) for f in queryset.query.order_by]


def _value(row, name: str):
    value = getattr(row, name)
    return value.isoformat() if isinstance(value, dt.date) else value


def _restore(name: str, value, queryset: QuerySet):
    field = queryset.model._meta.get_field(name)
    if value is not None and field.get_internal_type() == "DateTimeField":
        return dt.datetime.fromisoformat(value)
    if value is not None and field.get_internal_type() == "DateField":
        return dt.date.fromisoformat(value)
    return value


def _after(order: list[tuple[str, bool]], values: list, forward: bool) -> Q:
    """Rows strictly after ``values`` in the given order (before them when ``forward`` is False).

    The first sort key is also bounded on its own (``name_pinyin >= x`` beside ``name_pinyin > x OR (… AND
    id > y)``): an index scan then starts at the cursor instead of filtering every row before it.
    """
    condition = Q()
    for i, (name, desc) in enumerate(order):
        op = "lt" if desc == forward else "gt"
        step = Q(**{f"{name}__{op}": values[i]})
        for j in range(i):
            step &= Q(**{order[j][0]: values[j]})
        condition |= step
    if len(order) > 1 and values[0] is not None:
        name, desc = order[0]
        condition &= Q(**{f"{name}__{'lte' if desc == forward else 'gte'}": values[0]})
    return condition


def _read_cursor(direction: str, text, keys: list[str], queryset: QuerySet) -> tuple[str, list] | None:
    """(direction, sort values) of a signed cursor made under the same order (``keys``), or None: a cursor of
    another order, an old or damaged one, or values that do not fit the columns give the first page."""
    try:
        payload = signing.loads(str(text), salt=SALT)
        if not isinstance(payload, dict) or payload.get("o") != keys:
            return None
        raw = payload.get("v")
        if not isinstance(raw, list) or len(raw) != len(keys):
            return None
        return direction, [_restore(name.lstrip("-"), value, queryset) for name, value in zip(keys, raw, strict=True)]
    except (signing.BadSignature, ValueError, TypeError, AttributeError):
        return None


def keyset_page(queryset: QuerySet, params, *, size: int = 50, count_cap: int = COUNT_CAP,
                counted: int | None = None) -> KeysetPage:
    """One page of ``queryset`` after or before the cursor in ``params``. ``counted``: the matches already
    counted up to ``count_cap + 1`` by the caller (a name search counts them while narrowing)."""
    order = _order(queryset)
    names = [name for name, _desc in order]
    keys = list(queryset.query.order_by)
    after = params.get("after")
    before = params.get("before")
    cursor = None
    if after:
        cursor = _read_cursor("after", after, keys, queryset)
    elif before:
        cursor = _read_cursor("before", before, keys, queryset)
    page_qs = queryset
    if cursor:
        direction, values = cursor
        page_qs = queryset.filter(_after(order, values, forward=direction == "after"))
        if direction == "before":
            page_qs = page_qs.order_by(*[f"{'' if desc else '-'}{name}" for name, desc in order])
    rows = list(page_qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if cursor and cursor[0] == "before":
        rows.reverse()
    # Counted on the unit column, not the id: the search and list indexes carry it (INCLUDE), so the count reads
    # the index alone instead of visiting up to 10,001 rows of the table.
    if counted is None:
        capped_count = queryset.order_by().values("org_unit_id")[: count_cap + 1].count()
    else:
        capped_count = counted
    page = KeysetPage(rows=rows, size=size, total=min(capped_count, count_cap), total_capped=capped_count > count_cap,
                      is_first=not cursor or (cursor[0] == "before" and not has_more))
    if rows:
        going_back = cursor and cursor[0] == "before"
        if has_more or going_back:
            page.next_cursor = signing.dumps({"o": keys, "v": [_value(rows[-1], n) for n in names]}, salt=SALT)
        if cursor and not page.is_first:
            page.prev_cursor = signing.dumps({"o": keys, "v": [_value(rows[0], n) for n in names]}, salt=SALT)
    return page
