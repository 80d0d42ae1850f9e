"""Home-page rows of the permission matrix (see tests/permissions.py). ``core:home`` itself is core's row."""

from __future__ import annotations

from tests.permissions import DISTRICT, MANAGERS, STATIONS, Route

CARD_VIEWERS = DISTRICT | STATIONS | MANAGERS  # registry.view_preferentialcard; rows scoped by visible_to

ROUTES = [
    Route("reports:home_cards_waiting", ok=CARD_VIEWERS),
    Route("reports:home_cards_waiting", ok=CARD_VIEWERS, query={"status": "applied"}),
]
