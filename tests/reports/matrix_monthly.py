"""Monthly report rows of the permission matrix (see tests/permissions.py)."""

from __future__ import annotations

from apps.reports.monthly import last_month
from tests.permissions import DISTRICT, MANAGERS, REDIRECT, Route

READERS = DISTRICT | {"street_a", "street_b"} | MANAGERS  # reports.view_monthly_report
BUILDERS = frozenset({"admin", "bureau"})  # district-wide and reports.fill_report


def objects(users, tree) -> dict:
    return {"monthly_street": tree["street_a"]}


ROUTES = [
    Route("reports:monthly", ok=READERS),
    Route("reports:monthly", ok=READERS, query={"period": "2026-05"}),
    Route("reports:monthly_build", ok=BUILDERS),
    Route("reports:monthly_build", "post",
          data=lambda objs, who: {"period": last_month().key, "unit": objs["monthly_street"].pk},
          ok=BUILDERS, ok_status=REDIRECT),
]
