"""Reports rows of the permission matrix (see tests/permissions.py): one module per part."""

from __future__ import annotations

from tests.reports import matrix_dashboard, matrix_forms, matrix_home, matrix_monthly

PARTS = (matrix_home, matrix_dashboard, matrix_forms, matrix_monthly)
ROUTES = [route for part in PARTS for route in part.ROUTES]


def objects(users, tree) -> dict:
    found: dict = {}
    for part in PARTS:
        if hasattr(part, "objects"):
            found.update(part.objects(users, tree))
    return found
