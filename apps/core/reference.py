"""Code tables and the org-unit tree, held in memory per process and checked with one cheap query.

Every list page renders the same few hundred codes and ~100 units as filter choices and names every
row's unit and codes. Reading them per request cost a dozen queries (a COUNT and a cursor per drop-down)
and a join per code column. They change rarely (administrators in the admin site, data migrations,
``load_orgunits``), so each process keeps a copy, and a caller asks for ``snapshot()`` once per request:
one query reads a version of both tables, and the copy is reloaded when it changed.

The version of a table is its newest history event id (pghistory triggers record every insert and
update, bulk and raw writes included), its row count and its highest id (deletions, and tables flushed
and refilled by tests). Nothing can change a row without moving one of them.

The code table is the registry's (``Code``): core cannot import it, so the registry names it here from its
``hooks.register()`` (``use_code_model``). Without it (core alone) the snapshot has units and no codes.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from .models import OrgUnit

Code = Any  # the registry's code model (``use_code_model``); core does not import it

_code_model: type[models.Model] | None = None
_version_sql: str | None = None


def use_code_model(model: type[models.Model]) -> None:
    """Name the code table the snapshot holds (the registry's ``Code``, called from its hooks)."""
    global _code_model, _version_sql, _current
    _code_model, _version_sql, _current = model, None, None


def _table_version_sql(model: type[models.Model]) -> str:
    """The version of one pghistory-tracked table: newest event id, row count, highest id."""
    qn = connection.ops.quote_name
    event = model.pgh_event_model  # pghistory's event model of the table
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    return (f"(SELECT coalesce(max({qn(event._meta.pk.column)}), 0) FROM {qn(event._meta.db_table)}),"  # noqa: S608
            f" (SELECT count(*) FROM {table}), (SELECT coalesce(max({pk}), 0) FROM {table})")


def _version_statement() -> str:
    global _version_sql
    if _version_sql is None:
        tables = [m for m in (_code_model, OrgUnit) if m is not None]
        _version_sql = "SELECT " + ", ".join(_table_version_sql(m) for m in tables)
    return _version_sql


@dataclass
class Snapshot:
    """All codes and units, read-only: shared by every request of the process until a table changes."""

    version: tuple
    codes: dict[int, Code]
    by_kind: dict[str, list[Code]]  # in the table's order (sort_order, code)
    units: list[OrgUnit]  # in tree order (path)
    unit_by_pk: dict[int, OrgUnit] = field(default_factory=dict)

    def code_name(self, pk: int | None) -> str:
        code = self.codes.get(pk) if pk is not None else None
        return code.name if code is not None else ""

    def subtree(self, unit: OrgUnit) -> list[OrgUnit]:
        """The unit and every unit below it, in tree order."""
        return [u for u in self.units if u.path.startswith(unit.path)]

    def subtree_pks(self, unit: OrgUnit) -> list[int]:
        return [u.pk for u in self.units if u.path.startswith(unit.path)]

    def lineage(self, unit_pk: int) -> list[OrgUnit]:
        """The unit's ancestors from the root down to the unit itself."""
        unit = self.unit_by_pk.get(unit_pk)
        if unit is None:
            return []
        return [u for u in self.units if unit.path.startswith(u.path)]

    def full_name(self, unit_pk: int) -> str:
        return " / ".join(u.name for u in self.lineage(unit_pk))


_lock = threading.Lock()
_current: Snapshot | None = None


def _version() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(_version_statement())
        return tuple(cursor.fetchone())


def _load(version: tuple) -> Snapshot:
    codes = list(_code_model.objects.order_by("kind", "sort_order", "code")) if _code_model is not None else []
    by_kind: dict[str, list[Code]] = {}
    for code in codes:
        by_kind.setdefault(code.kind, []).append(code)
    units = list(OrgUnit.objects.order_by("path"))
    return Snapshot(version=version, codes={c.pk: c for c in codes}, by_kind=by_kind, units=units,
                    unit_by_pk={u.pk: u for u in units})


_pinned = threading.local()


@contextmanager
def pinned(request=None):
    """Within the block, ``snapshot()`` called without a request (e.g. by a figure's link or buckets, hundreds of
    times for one dashboard) answers the snapshot read once here, without its version query."""
    previous = getattr(_pinned, "snapshot", None)
    _pinned.snapshot = snapshot(request)
    try:
        yield _pinned.snapshot
    finally:
        _pinned.snapshot = previous


def snapshot(request=None) -> Snapshot:
    """The current codes and units (one query; more only when a table changed since the last call).

    With ``request``, the snapshot is kept on it: every later call for the same request is free. Inside
    ``pinned()``, every call is free.
    """
    held = getattr(_pinned, "snapshot", None)
    if held is not None:
        return held
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    found = getattr(request, "_reference_snapshot", None) if request is not None else None
    if found is not None:
        return found
    global _current
    version = _version()
    current = _current
    if current is None or current.version != version:
        with _lock:
            if _current is None or _current.version != version:
                _current = _load(version)
            current = _current
    if request is not None:
        request._reference_snapshot = current
    return current
