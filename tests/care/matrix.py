"""Care rows of the permission matrix (see tests/permissions.py). Records belong to village A1.

Rows of each part of the care app live beside this file as ``matrix_<part>.py`` (``ROUTES`` and an optional
``objects(users, tree)``); this module collects them."""

from __future__ import annotations

import importlib
from pathlib import Path

from tests.permissions import DISTRICT, MANAGERS, STATIONS, Route

CARE_VIEWERS = DISTRICT | STATIONS | MANAGERS  # care.view_duevisit

ROUTES = [
    Route("care:worklist", ok=CARE_VIEWERS),
]

_PARTS = [importlib.import_module(f"tests.care.{p.stem}") for p in sorted(Path(__file__).parent.glob("matrix_*.py"))]
for _part in _PARTS:
    ROUTES.extend(_part.ROUTES)


def objects(users, tree) -> dict:
    objs: dict = {}
    for part in _PARTS:
        if hasattr(part, "objects"):
            objs.update(part.objects(users, tree))
    return objs
