"""Alembic environment: runs migrations on a synchronous connection.

The URL comes from, in order: a connection handed over by ``metrics.db.migrate``,
``-x url=...`` on the alembic command line, or ``JIANFU_DATABASE_URL``.
"""

from __future__ import annotations

import os

from sqlalchemy import Connection

from alembic import context
from metrics.db import make_engine, sync_url
from metrics.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "JIANFU_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database with -x url=... or JIANFU_DATABASE_URL")
    engine = make_engine(sync_url(url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
