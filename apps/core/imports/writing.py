"""Fast writes for imports, with history kept: COPY of new rows, set-based "insert" history events, many-to-many
links in one statement, and the pgtrigger switches that make them possible.

History is written set-based: a model's row-level history trigger is skipped for the one COPY (or INSERT) and
the same "insert" events are then written by one ``INSERT … SELECT`` under the import's context. Per row, the
trigger enters two PL/pgSQL exception blocks (pgtrigger's ignore check and pghistory's context look-up), which
made it cost ten times the insert itself. The trigger is skipped through pgtrigger's own switch, the
``pgtrigger.ignore`` setting its ignore check reads, set with ``SET LOCAL`` semantics around the statement only:
it holds for this transaction alone, so other sessions' writes keep their history, and it takes no lock
(``ALTER TABLE … DISABLE TRIGGER`` did, and kept every other writer of the table waiting until the import
committed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pgtrigger
from django.db import connection
from django.utils import timezone

T = TypeVar("T")


def insert_event_trigger(model):
    """The pghistory trigger that records the rows inserted into ``model``'s table (a record, or a many-to-many
    link), or None when the table has none."""
    return next((t for t in model._meta.triggers
                 if getattr(t, "operation", None) == pgtrigger.Insert and getattr(t, "event_model", None) is not None),
                None)


@contextlib.contextmanager
def history_trigger_skipped(cursor, pgid: str) -> Iterator[None]:
    """Skip one history trigger for the statements inside, through pgtrigger's own switch (the
    ``pgtrigger.ignore`` setting its ignore check reads): transaction-local (rolled back with a failed statement's
    savepoint), no lock, other sessions' writes keep their history; reset to "ignore nothing" after."""
    cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + pgid + "}"])
    yield
    cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


def history_context_id(cursor) -> int:
    """The pghistory context of this transaction (the import's: user, unit, file), attached once."""
    cursor.execute("SELECT _pgh_attach_context()")
    return cursor.fetchone()[0]


def fast_history_triggers() -> None:
    """Keep the history triggers but spare them an exception per row.

    pgtrigger's ``_pgtrigger_should_ignore()`` reads the ``pgtrigger.ignore`` setting inside an exception block;
    when the setting does not exist every row pays for a raised and caught error (a subtransaction), which made
    the history trigger ~15× dearer than the insert itself. An empty list means "ignore no trigger": the
    triggers run and record every row as before, only cheaply. ``SET LOCAL`` ends with the transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL pgtrigger.ignore = '{}'")


def copy_insert(model, items: list[T], record_of: Callable[[T], dict[str, Any]]) -> list[int]:
    """Insert one row of ``model`` per item with COPY; the new ids, in the items' order.

    Ids are reserved from the sequence first (for many-to-many rows), then the rows stream in: ``record_of``
    gives an item's row (attname → value) as it is sent, so PostgreSQL stores the rows already sent while
    Python prepares the next ones. Several times faster than ``bulk_create`` on large sheets, whose cost is
    building one parameter per cell in Python. ``created_at``/``updated_at``, when the model has them, are now.
    The model's "insert" history is written set-based (see the module's docstring).
    """
    meta = model._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    attnames = [f.attname for f in fields]
    stamps = [name for name in ("created_at", "updated_at") if name in attnames]
    now = timezone.now()
    trigger = insert_event_trigger(model)
    with connection.cursor() as cursor:
        # Through Django's cursor, so the history context of this transaction is set before the COPY.
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(items)])
        ids = [pk for (pk,) in cursor.fetchall()]
        columns = ", ".join(quote(f.column) for f in fields)
        pk_name = meta.pk.attname
        skipped = (history_trigger_skipped(cursor, trigger.get_pgid(model)) if trigger is not None
                   else contextlib.nullcontext())
        # The raw cursor's COPY bypasses Django's error wrapping: wrap it, so that a unique violation is Django's
        # IntegrityError like every other write of the import.
        with (skipped, connection.wrap_database_errors,
              cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy):
            for pk, item in zip(ids, items, strict=True):
                record = record_of(item)
                record[pk_name] = pk
                for name in stamps:
                    record[name] = now
                copy.write_row([record[name] for name in attnames])
        if trigger is not None:
            write_insert_events(cursor, model, trigger, ids)
    return ids


def write_insert_events(cursor, model, trigger, ids: list[int]) -> None:
    """The "insert" history events of ``model``'s rows ``ids``, as ``trigger`` writes them: every tracked
    column, the import's context (attached once), the transaction's time."""
    event_model = trigger.event_model
    quote = connection.ops.quote_name
    special = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context_id"}
    copied = [f.column for f in event_model._meta.concrete_fields if f.column not in special]
    context_id = history_context_id(cursor)
    columns = ", ".join(quote(c) for c in copied)
    pk = quote(model._meta.pk.column)
    cursor.execute(
        f"INSERT INTO {quote(event_model._meta.db_table)} ({columns}, pgh_context_id, pgh_created_at, pgh_label, "  # noqa: S608
        f"pgh_obj_id) SELECT {columns}, %s, NOW(), %s, {pk} "
        f"FROM {quote(model._meta.db_table)} WHERE {pk} = ANY(%s)",
        [context_id, trigger.label, ids])


def link(through, left: str, right: str, pairs: list[tuple[int, int]]) -> None:
    """Add many-to-many rows (``left`` id, ``right`` id) in one statement; rows already there are left alone.

    The through table's "added" history (who added a category or tag) is written set-based like the records'
    own: the row trigger is skipped for this statement and the rows the INSERT returned become their events in
    the same statement, under the import's context.
    """
    if not pairs:
        return
    meta = through._meta
    quote = connection.ops.quote_name
    left, right = meta.get_field(left).column, meta.get_field(right).column
    added = insert_event_trigger(through)
    values = [[a for a, _b in pairs], [b for _a, b in pairs]]
    insert = (f"INSERT INTO {quote(meta.db_table)} ({quote(left)}, {quote(right)}) "  # noqa: S608 - names from the model
              "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        if added is None:
            cursor.execute(insert, values)
            return
        event_table = quote(added.event_model._meta.db_table)
        columns = ", ".join(quote(c) for c in (meta.pk.column, left, right))
        context_id = history_context_id(cursor)
        with history_trigger_skipped(cursor, added.get_pgid(through)):
            cursor.execute(
                f"WITH added AS ({insert} RETURNING {columns}) "  # noqa: S608 - names from the models
                f"INSERT INTO {event_table} ({columns}, pgh_context_id, pgh_created_at, pgh_label) "
                f"SELECT {columns}, %s, NOW(), %s FROM added",
                [*values, context_id, added.label])
