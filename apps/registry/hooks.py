"""Extension points of the person record for the apps that build on the registry (care, honors…).

The registry cannot import those apps (data flows one way), so they register here from their own
``hooks.register()`` (found by name: apps.core.discovery), as the registry registers its own tabs:
- ``PersonTab``: an extra tab on the person page, rendered by the app's own template and context;
- ``history source``: entries the app adds to the person's history tab (a visit, a delivery…);
- ``on_change``: a callback told the primary keys of records that were created or changed (a record
  edited, transferred, closed, imported) so that the app can recompute what depends on them. It runs after
  the change commits, from core's outbox (in a worker, or in the web process with the broker down), inside
  the transaction that deletes the outbox row, and at least once: it must be safe to run twice;
- ``on_move``: a callback told, inside the transaction that moved them to another responsible unit (a
  transfer), the primary keys of the records moved, so that everything the app keeps about these people
  moves with them in the same transaction (no moment where the old unit still sees it, or the new one not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class PersonTab:
    key: str
    label: str | Promise
    template: str
    context: Callable[[Any, Any], dict]  # (request, veteran) -> template context
    permission: str
    order: int = 100


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str
    what: str
    link: str = ""


_TABS: dict[str, PersonTab] = {}
_HISTORY: list[Callable[[Any], Iterable[HistoryEntry]]] = []
_ON_CHANGE: list[Callable[[list[int]], None]] = []
_ON_MOVE: list[Callable[[list[int]], None]] = []


def register_tab(tab: PersonTab) -> None:
    _TABS[tab.key] = tab


def tabs_for(user) -> list[PersonTab]:
    return sorted((t for t in _TABS.values() if user.has_perm(t.permission)), key=lambda t: t.order)


def tab(key: str) -> PersonTab | None:
    return _TABS.get(key)


def register_history_source(source: Callable[[Any], Iterable[HistoryEntry]]) -> None:
    if source not in _HISTORY:
        _HISTORY.append(source)


def history_entries(veteran) -> list[HistoryEntry]:
    entries = [entry for source in _HISTORY for entry in source(veteran)]
    return sorted(entries, key=lambda e: e.when, reverse=True)


def on_change(callback: Callable[[list[int]], None]) -> None:
    if callback not in _ON_CHANGE:
        _ON_CHANGE.append(callback)


CHANGED_KIND = "registry.veterans_changed"
CHANGED_BATCH = 5_000  # records per outbox row (an import of 100,000 rows records twenty)


def veterans_changed(pks: Iterable[int]) -> None:
    """Record, in the current transaction, that these records changed: the registered apps are told once it
    commits (in a worker, or here with the broker down), and a process killed after the commit or a lost
    message cannot lose it (core's outbox). Callbacks must be safe to run twice."""
    pks = sorted(set(pks))
    if not pks or not _ON_CHANGE:
        return
    from apps.core.outbox import outbox_add

    outbox_add(kind=CHANGED_KIND, payloads=[{"ids": pks[start:start + CHANGED_BATCH]}
                                            for start in range(0, len(pks), CHANGED_BATCH)])


def on_move(callback: Callable[[list[int]], None]) -> None:
    if callback not in _ON_MOVE:
        _ON_MOVE.append(callback)


def veterans_moved(pks: Iterable[int]) -> None:
    """Tell the registered apps, now and inside the caller's transaction, that these records have a new
    responsible unit (already saved): each moves what it keeps about them to that unit."""
    pks = sorted(set(pks))
    for callback in _ON_MOVE if pks else ():
        callback(pks)


def _fire(payload: dict) -> None:
    ids = list(payload.get("ids") or [])
    for callback in _ON_CHANGE:
        callback(ids)


def register() -> None:
    """The registry's menu entry, its own person tabs and its outbox kind (apps.core.discovery). Care work
    runs on the reminders queue; with the broker down a changed record's tasks are recomputed in the web
    process (README "Redis down")."""
    from apps.core import navigation, reference
    from apps.core.navigation import NavItem
    from apps.core.outbox import register as register_outbox

    from .models import Code
    from .tabs import TABS

    reference.use_code_model(Code)

    navigation.register(NavItem("veterans", _("Veterans"), "registry:veteran_list", "person-vcard",
                                "registry.view_veteran", order=10))
    for person_tab in TABS:
        register_tab(person_tab)
    register_outbox(CHANGED_KIND, _fire, queue="reminders", inline=True)
