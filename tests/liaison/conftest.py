"""Shared pieces of the liaison tests: two pairings (street A, street B) and a helper that adds an item."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.liaison import services
from apps.liaison.models import LiaisonPairing, LiaisonTask

THIS_MONTH = services.month_start(timezone.localdate())
LAST_MONTH = services.month_shift(THIS_MONTH, -1)


@pytest.fixture
def pairing_a(users, tree) -> LiaisonPairing:
    return services.pairing_save(actor=users["bureau"], department="优抚科", street=tree["street_a"],
                                 members=[users["bureau"]])


@pytest.fixture
def pairing_b(users, tree) -> LiaisonPairing:
    return services.pairing_save(actor=users["bureau"], department="安置科", street=tree["street_b"])


def add_task(pairing, *, actor=None, month=THIS_MONTH, item="走访重点优抚对象", due=None, **fields) -> LiaisonTask:
    return services.liaison_task_save(actor=actor, pairing=pairing, month=month, item=item,
                                      due_date=due or month.replace(day=20), **fields)
