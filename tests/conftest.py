"""Shared fixtures: real SQLite files built by Alembic, and a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from metrics.db import migrate

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.onebot_fixtures"]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite database migrated to head by Alembic."""
    url = f"sqlite:///{tmp_path / 'jianfu.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # python-wechaty and the digest writer use relative paths; keep them in tmp.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / ".wechaty"))
    yield


@pytest.fixture(autouse=True)
def _quiet_slate() -> None:
    # Rate-limited warnings remember what they said; each test starts unheard.
    from bot.adapters.edge import reset_throttles

    reset_throttles()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 9, 21, 12, 0, tzinfo=UTC))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


PG_ADMIN_URL = os.environ.get(
    "JIANFU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_available() -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head; skipped only outside CI when no server runs."""
    import uuid

    import sqlalchemy

    if not _pg_available():
        if in_ci():
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (CI must run it)")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"jianfu_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    name = "db_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))
