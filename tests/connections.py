"""A second, independent database connection for tests that race the test's own (locks, advisory locks).

It is opened by Django's backend from the configured connection's own parameters (host, port or socket
directory, user, password, database, OPTIONS), so it reaches the same server the suite uses: the machine's
PostgreSQL under DATABASE_URL, or the embedded one (a Unix socket under var/) without it.
"""

from __future__ import annotations

from django.db import connection


def open_connection(*, autocommit: bool = True):
    """A new psycopg connection to the test database, configured exactly like Django's own."""
    connection.ensure_connection()
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = autocommit
    return other
