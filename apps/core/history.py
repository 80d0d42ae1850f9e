"""Changes of many-to-many fields (a person's tags, a rule's selectors) read from their history events.

The through tables are tracked by pghistory (``<field>.add`` on insert, ``<field>.remove`` on delete); one
save that sets a field writes its rows in one transaction, so the events of one save share their time and
context and are shown as one change: who, when, which field, what was added and removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps as django_apps
from django.db import models

LIMIT = 500  # events per field read for one page; a record's lifetime has far fewer


@dataclass
class SetChange:
    when: datetime
    who: str
    field: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def set_changes(owner: models.Model, events: Mapping[str, str]) -> list[SetChange]:
    """The changes of ``owner``'s many-to-many fields, newest first.

    ``events`` maps a field name to the label of its through table's event model (``"registry.VeteranTagsEvent"``).
    """
    from .models import User

    found: list[tuple[str, models.Model]] = []
    for name, label in events.items():
        m2m = owner._meta.get_field(name)
        event_model = django_apps.get_model(label)
        rows = (event_model.objects.filter(**{f"{m2m.m2m_field_name()}_id": owner.pk}).select_related("pgh_context")
                .order_by("-pgh_id")[:LIMIT])
        found += [(name, row) for row in rows]
    if not found:
        return []
    targets: dict[str, dict] = {}
    for name in events:
        m2m = owner._meta.get_field(name)
        column = f"{m2m.m2m_reverse_field_name()}_id"
        ids = {getattr(row, column) for field_name, row in found if field_name == name}
        targets[name] = {"column": column, "objects": m2m.related_model._base_manager.in_bulk(ids)}
    user_ids = {row.pgh_context.metadata.get("user") for _name, row in found if row.pgh_context_id}
    users = {user.pk: str(user) for user in User.objects.filter(pk__in={pk for pk in user_ids if pk})}
    changes: dict[tuple, SetChange] = {}
    for name, row in sorted(found, key=lambda item: (item[1].pgh_created_at, item[1].pgh_id)):
        context = row.pgh_context.metadata if row.pgh_context_id else {}
        key = (row.pgh_created_at, row.pgh_context_id, name)
        change = changes.get(key)
        if change is None:
            who = users.get(context.get("user")) or context.get("command") or "—"
            change = changes[key] = SetChange(when=row.pgh_created_at, who=who,
                                              field=str(owner._meta.get_field(name).verbose_name))
        target = targets[name]["objects"].get(getattr(row, targets[name]["column"]))
        shown = str(target) if target is not None else f"#{getattr(row, targets[name]['column'])}"
        (change.added if row.pgh_label.endswith(".add") else change.removed).append(shown)
    for change in changes.values():  # a value removed and added back in one save did not change
        both = set(change.added) & set(change.removed)
        change.added = [value for value in change.added if value not in both]
        change.removed = [value for value in change.removed if value not in both]
    return sorted((c for c in changes.values() if c.added or c.removed), key=lambda c: c.when, reverse=True)
