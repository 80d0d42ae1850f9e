"""The main menu. Apps add their entries from ``hooks.register()`` (apps.core.discovery); a user sees only what
their role may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    permission: str | None = None
    order: int = 100

    def visible_for(self, user) -> bool:
        return user.is_authenticated and (self.permission is None or user.has_perm(self.permission))

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _REGISTRY[item.key] = item


def items_for(user) -> list[NavItem]:
    return sorted((i for i in _REGISTRY.values() if i.visible_for(user)), key=lambda i: i.order)


def active_key(items: list[NavItem], view_name: str) -> str:
    """The menu entry a page belongs to: same app and same object kind (``core:user_detail`` → users)."""
    for item in items:
        if item.url_name == view_name or (view_name and item.url_name.rsplit("_", 1)[0] == view_name.rsplit("_", 1)[0]
                                          and "_" in view_name):
            return item.key
    return ""
