"""Dashboard rows of the permission matrix (see tests/permissions.py). Figures only: leadership, bureau staff,
administrators and street stations see their area's dashboard and download its tables; village stations and
users without a place do not. Out-of-area units (404) are in tests/reports/test_dashboard.py (the matrix's query
parameters are fixed, a unit's pk is not)."""

from __future__ import annotations

from tests.permissions import DISTRICT, MANAGERS, Route

VIEWERS = DISTRICT | {"street_a", "street_b"} | MANAGERS

ROUTES = [
    Route("reports:dashboard", ok=VIEWERS),
    Route("reports:dashboard", query={"period": "2025"}, ok=VIEWERS),
    # A period that has not started: the page with a clear error, not a failure.
    Route("reports:dashboard", query={"period": "2099-Q1"}, ok=VIEWERS),
    Route("reports:dashboard", query={"format": "xlsx", "table": "drill"}, ok=VIEWERS),
]
