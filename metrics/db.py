"""Database URLs, engines, private SQLite files and migrations."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = Path("data") / "jianfu.sqlite3"


def default_url(path: Path = DEFAULT_DB_PATH) -> str:
    return f"sqlite:///{path}"


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic, CLI queries)."""
    u = make_url(url)
    driver = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}
    return u.set(drivername=driver.get(u.drivername, u.drivername)).render_as_string(
        hide_password=False
    )


def async_url(url: str) -> str:
    """The same database through an asyncio driver (the running bot)."""
    u = make_url(url)
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+pysqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgresql+psycopg": "postgresql+asyncpg",
        "postgresql+psycopg2": "postgresql+asyncpg",
    }
    return u.set(drivername=driver.get(u.drivername, u.drivername)).render_as_string(
        hide_password=False
    )


def safe_url(url: str) -> str:
    """The URL with any password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if not u.drivername.startswith("sqlite") or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def ensure_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only, before SQLite opens it.

    SQLite gives its -wal and -journal files the main file's permissions, so
    making the main file 0600 covers them too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA journal_mode=WAL")
    # Deleted and overwritten content is zeroed, so an opted-out person's name does
    # not linger in free pages of the file.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    url = sync_url(url)
    path = sqlite_path(url)
    if path is not None:
        ensure_private_file(path)
    engine = create_engine(url)
    if path is not None:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_async_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    path = sqlite_path(url)
    if path is not None:
        ensure_private_file(path)
    engine = create_async_engine(url)
    if path is not None:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    cfg.attributes["url"] = url
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` with Alembic."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
