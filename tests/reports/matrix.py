"""Reports rows of the permission matrix (see tests/permissions.py): one module per part."""

from __future__ import annotations

import importlib

PARTS = ["home", "dashboard", "forms", "monthly"]
_modules = []
for _part in PARTS:
    try:
        _modules.append(importlib.import_module(f"tests.reports.matrix_{_part}"))
    except ModuleNotFoundError as error:
        if error.name != f"tests.reports.matrix_{_part}":
            raise

ROUTES = [route for module in _modules for route in module.ROUTES]


def objects(users, tree) -> dict:
    found: dict = {}
    for module in _modules:
        if hasattr(module, "objects"):
            found.update(module.objects(users, tree))
    return found
