"""Paging for every list: keyset paging for the large registers, offset paging for small ones.

Keyset: the next page starts after the last row shown, so page 10,000 costs what page 1 costs. The condition is a
row comparison, ``(due_date, id) > (%s, %s)``: a btree index on those columns starts its scan at the cursor
(an OR of "key > x OR (key = x AND id > y)" started at the key and filtered every row of that key before the
cursor: a festival puts 150,000 due visits on one day). Orders that mix directions use the OR form.

The cursor holds the last (or first) row's sort values and the order they were taken in, signed so it cannot be
forged into a filter. Values are restored through the model fields (dates and datetimes come back as such). A
cursor of another order (a link kept from another sorting), an edited, truncated or malformed one starts from
the first page, never an error. The total is counted up to a cap; beyond it the page says "more than N".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

COUNT_CAP = 10_000
SALT = "core.lists.keyset"


@dataclass
class KeysetPage:
    rows: list
    size: int
    total: int = 0
    total_capped: bool = False
    next_cursor: str = ""
    prev_cursor: str = ""
    is_first: bool = True
    counted: bool = True  # False: the page shows no total (a worklist's tabs carry the counts)
    params: dict = field(default_factory=dict)


def _order(queryset: QuerySet) -> list[tuple[str, bool]]:
    """(field, descending) pairs of the queryset's ordering."""
    return [(f.lstrip("-"), f.startswith("-")) for f in queryset.query.order_by]


def _dump(row, name: str):
    value = getattr(row, name)
    return value.isoformat() if isinstance(value, dt.date) else value


def _field(queryset: QuerySet, name: str):
    return queryset.model._meta.pk if name == "pk" else queryset.model._meta.get_field(name)


def _after(queryset: QuerySet, order: list[tuple[str, bool]], values: list, forward: bool) -> Q | RawSQL:
    """Rows strictly after ``values`` in the given order (before them when ``forward`` is False)."""
    directions = {desc for _name, desc in order}
    if len(directions) == 1 and None not in values:
        op = "<" if directions.pop() == forward else ">"
        table = queryset.model._meta.db_table
        columns = ", ".join(f'"{table}"."{_field(queryset, name).column}"' for name, _desc in order)
        marks = ", ".join(["%s"] * len(values))
        return RawSQL(f"({columns}) {op} ({marks})", values, output_field=BooleanField())  # noqa: S611 - names from _meta
    condition = Q()
    for i, (name, desc) in enumerate(order):
        step = Q(**{f"{name}__{'lt' if desc == forward else 'gt'}": values[i]})
        for j in range(i):
            step &= Q(**{order[j][0]: values[j]})
        condition |= step
    return condition


def read_cursor(text, queryset: QuerySet) -> list | None:
    """The sort values of a signed cursor made under the queryset's order, or None (first page): a cursor of
    another order, an old or damaged one, or values that do not fit the columns."""
    keys = list(queryset.query.order_by)
    try:
        payload = signing.loads(str(text), salt=SALT)
        if not isinstance(payload, dict) or payload.get("o") != keys:
            return None
        raw = payload.get("v")
        if not isinstance(raw, list) or len(raw) != len(keys):
            return None
        return [None if value is None else _field(queryset, name.lstrip("-")).to_python(value)
                for name, value in zip(keys, raw, strict=True)]
    except (signing.BadSignature, ValidationError, FieldDoesNotExist, ValueError, TypeError, AttributeError):
        return None


def make_cursor(row, queryset: QuerySet) -> str:
    keys = list(queryset.query.order_by)
    return signing.dumps({"o": keys, "v": [_dump(row, name.lstrip("-")) for name in keys]}, salt=SALT)


def keyset_page(queryset: QuerySet, params, *, size: int = 50, count_cap: int | None = COUNT_CAP,
                counted: int | None = None, count_field: str = "pk") -> KeysetPage:
    """One page of ``queryset`` (ordered on its own columns, ending with a unique one) after the ``after`` cursor or
    before the ``before`` cursor of ``params``. The matches are counted up to ``count_cap + 1`` on ``count_field``
    (a column an index carries: the count reads the index alone); ``counted``: already counted by the caller;
    ``count_cap=None``: not counted (the page shows no total)."""
    order = _order(queryset)
    cursor = None
    for direction in ("after", "before"):
        if params.get(direction):
            values = read_cursor(params[direction], queryset)
            cursor = (direction, values) if values is not None else None
            break
    page_qs = queryset
    backwards = cursor is not None and cursor[0] == "before"
    if cursor:
        page_qs = queryset.filter(_after(queryset, order, cursor[1], forward=not backwards))
        if backwards:
            page_qs = page_qs.order_by(*[f"{'' if desc else '-'}{name}" for name, desc in order])
    rows = list(page_qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if counted is None and count_cap is not None:
        counted = queryset.order_by().values(count_field)[: count_cap + 1].count()
    cap = count_cap if count_cap is not None else 0
    page = KeysetPage(rows=rows, size=size, total=min(counted or 0, cap) if count_cap is not None else 0,
                      total_capped=count_cap is not None and (counted or 0) > count_cap,
                      is_first=not cursor or (backwards and not has_more), counted=count_cap is not None)
    if rows:
        if has_more or backwards:
            page.next_cursor = make_cursor(rows[-1], queryset)
        if cursor and not page.is_first:
            page.prev_cursor = make_cursor(rows[0], queryset)
    return page


def offset_page(queryset, params, *, size: int = 50) -> Page:
    """A numbered page of a small register (``?page=n``; a page out of range gives the nearest one).

    Small registers usually fit on their first page: that page reads one row more than it shows, and when the
    register fits, the rows read are its count (no ``COUNT`` query)."""
    number = params.get("page")
    if number in (None, "", "1"):
        first = list(queryset[: size + 1])
        if len(first) <= size:
            return Paginator(first, size).page(1)
    return Paginator(queryset, size).get_page(number)
