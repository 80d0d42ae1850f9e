"""Code tables and the org-unit tree, held in memory per process and checked with one cheap query.

Every list page renders the same few hundred codes and ~100 units as filter choices and names every
row's unit and codes. Reading them per request cost a dozen queries (a COUNT and a cursor per drop-down)
and a join per code column. They change rarely (administrators in the admin site, data migrations,
``load_orgunits``), so each process keeps a copy, and a caller asks for ``snapshot()`` once per request:
one query reads a version of both tables, and the copy is reloaded when it changed.

The version of a table is its newest history event id (pghistory triggers record every insert and
update, bulk and raw writes included), its row count and its highest id (deletions, and tables flushed
and refilled by tests). Nothing can change a row without moving one of them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.db import connection

from apps.core.models import OrgUnit

from .models import Code

_VERSION_SQL = (
    "SELECT (SELECT coalesce(max(pgh_id), 0) FROM registry_codeevent),"
    " (SELECT count(*) FROM registry_code), (SELECT coalesce(max(id), 0) FROM registry_code),"
    " (SELECT coalesce(max(pgh_id), 0) FROM core_orgunitevent),"
    " (SELECT count(*) FROM core_orgunit), (SELECT coalesce(max(id), 0) FROM core_orgunit)"
)


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
        cursor.execute(_VERSION_SQL)
        return tuple(cursor.fetchone())


def _load(version: tuple) -> Snapshot:
    codes = list(Code.objects.order_by("kind", "sort_order", "code"))
    by_kind: dict[str, list[Code]] = {}
    for code in codes:
        by_kind.setdefault(code.kind, []).append(code)
    units = list(OrgUnit.objects.order_by("path"))
    return Snapshot(version=version, codes={c.pk: c for c in codes}, by_kind=by_kind, units=units,
                    unit_by_pk={u.pk: u for u in units})


def snapshot(request=None) -> Snapshot:
    """The current codes and units (one query; more only when a table changed since the last call).

    With ``request``, the snapshot is kept on it: every later call for the same request is free.
    """
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
