"""Statements compiled once and run with values bound (apps/core/sql.py), shared by the auth backend and the
care engine."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core import auth
from apps.core.models import User
from apps.core.sql import Placeholder, Statement, StatementCache


def test_placeholders_are_found_by_identity_or_by_sentinel_and_bound_by_name():
    ids, user = Placeholder("ids"), Placeholder("user", sentinel=-99)
    statement = Statement.compile("SELECT %s, %s, %s", [ids, 7, -99], (ids, user))
    assert statement.slots == ((0, "ids"), (2, "user"))
    assert statement.bind(ids=[1, 2], user=5) == [[1, 2], 7, 5]
    assert statement.params == (ids, 7, -99)  # binding leaves the compiled statement as it was


def test_the_cache_builds_once_per_key_and_starts_over_when_full():
    cache, built = StatementCache(maxsize=2), []

    def build(key):
        built.append(key)
        return Statement.compile(f"SELECT {key}", [])

    for key in ("a", "a", "b", "a"):
        cache.get(key, lambda key=key: build(key))
    assert built == ["a", "b"] and len(cache) == 2
    cache.get("c", lambda: build("c"))
    assert len(cache) == 1


@pytest.mark.django_db
def test_the_user_statement_is_compiled_once_and_loads_each_user(users):
    auth._COMPILED.clear()
    backend = auth.PortalBackend()
    first, second = backend.get_user(users["admin"].pk), backend.get_user(users["village_a1"].pk)
    assert (first.username, second.username) == ("admin", "village_a1")
    assert second.org_unit == users["village_a1"].org_unit
    assert len(auth._COMPILED) == 1
    assert auth._statement(User._default_manager.db).sql.count("%s") >= 1
    assert backend.get_user(0) is None
    assert connection.vendor == "postgresql"
