"""Database URLs, engines, private SQLite files and migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from metrics.errors import DatabaseError

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = Path("data") / "jianfu.sqlite3"
SQLITE_MAGIC = b"SQLite format 3\x00"
JIANFU_TABLES = frozenset({"people", "messages", "groups"})

# The drivers the project installs: the standard library's sqlite3 and aiosqlite, and
# for PostgreSQL the `postgres` extra (psycopg and asyncpg). A URL naming the backend
# alone, or another driver of it, is served by these.
_SYNC_DRIVER = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
}
_ASYNC_DRIVER = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_URL_EXAMPLES = '"sqlite:///data/jianfu.sqlite3" 或 "postgresql://用户@主机:5432/库名"'


def default_url(path: Path = DEFAULT_DB_PATH) -> str:
    return f"sqlite:///{path}"


def _parse(url: str) -> URL:
    """The URL parsed and checked against the databases jianfu supports."""
    try:
        u = make_url(url)
    except ArgumentError:
        hint = f'；SQLite 文件请写成 "sqlite:///{url}"' if "://" not in url else ""
        raise DatabaseError(f'数据库地址 "{url}" 无法识别：应写成 {_URL_EXAMPLES}{hint}') from None
    if u.drivername not in _SYNC_DRIVER:
        backend = u.get_backend_name()
        what = (
            f"不支持驱动 {u.drivername}"
            if backend in ("sqlite", "postgresql")
            else f"不支持数据库类型 {backend}"
        )
        raise DatabaseError(
            f"数据库地址 {u.render_as_string(hide_password=True)} {what}："
            f"只支持 SQLite 和 PostgreSQL，例如 {_URL_EXAMPLES}"
        )
    if u.get_backend_name() == "sqlite" and u.database in (None, ""):
        raise DatabaseError(
            f'数据库地址 "{url}" 没有文件名：应写成 "sqlite:///data/jianfu.sqlite3"'
        )
    return u


def check_url(url: str) -> str:
    """``url`` unchanged if jianfu can use it; DatabaseError naming the problem otherwise."""
    _parse(url)
    return url


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic, CLI queries)."""
    u = _parse(url)
    return u.set(drivername=_SYNC_DRIVER[u.drivername]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """The same database through an asyncio driver (the running bot)."""
    u = _parse(url)
    return u.set(drivername=_ASYNC_DRIVER[u.drivername]).render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL with any password masked, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if not u.drivername.startswith("sqlite") or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def describe(url: str) -> str:
    """How messages name the database: the SQLite file, or the URL without its password."""
    try:
        path = sqlite_path(url) if "://" in url else None
    except ArgumentError:
        return url
    return str(path) if path is not None else safe_url(url)


def ensure_private_file(path: Path) -> bool:
    """Create the SQLite file readable by its owner only, before SQLite opens it.

    SQLite gives its -wal and -journal files the main file's permissions, so
    creating the main file 0600 covers them too. A file that already exists is
    left exactly as it is (it may not be ours); returns whether the file was created.
    """
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "database file %s is readable by other users (mode %03o); jianfu does not"
                " change files it did not create: run chmod 600 %s",
                path,
                mode,
                path,
            )
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        if path.exists():  # created by someone else in between: still not ours to change
            return False
        raise DatabaseError(f"无法创建数据库文件 {path}：路径中有一段是文件而不是目录") from None
    except OSError as e:
        raise DatabaseError(f"无法创建数据库文件 {path}：{os_reason(e)}") from e
    os.close(fd)
    return True


def os_reason(e: OSError) -> str:
    """A short Chinese reason for an operating-system error."""
    import errno

    reasons = {
        errno.ENOENT: "文件或目录不存在",
        errno.EACCES: "没有权限",
        errno.EPERM: "没有权限",
        errno.EROFS: "所在文件系统只读",
        errno.ENOSPC: "磁盘已满",
        errno.EDQUOT: "超出磁盘配额",
        errno.EISDIR: "这是一个目录",
        errno.ENOTDIR: "路径中有一段不是目录",
        errno.EIO: "磁盘读写出错",
    }
    return reasons.get(e.errno or 0, e.strerror or type(e).__name__)


def migrate_hint(url: str) -> str:
    """The command that creates or upgrades this database."""
    return f"jianfu migrate --db {describe(url)}"


def check_sqlite_file(path: Path, url: str) -> None:
    """DatabaseError unless ``path`` is an existing, non-empty SQLite file."""
    hint = migrate_hint(url)
    if not path.exists():
        raise DatabaseError(f"数据库文件 {path} 不存在：请检查 --db 或配置，新建请运行 {hint}")
    if not path.is_file():
        raise DatabaseError(f"数据库文件 {path} 不是普通文件")
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise DatabaseError(f"无法读取数据库文件 {path}：{os_reason(e)}") from e
    if not head:
        raise DatabaseError(f"数据库文件 {path} 是空文件：请运行 {hint} 建立数据库")
    if head != SQLITE_MAGIC:
        raise DatabaseError(
            f"{path} 不是 SQLite 数据库文件：请检查 --db，新建数据库请换一个文件名运行 jianfu migrate --db 新文件"
        )


@cache
def head_revision() -> str:
    """The newest schema revision the code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return str(head)


def check_schema(conn: Connection, url: str) -> None:
    """DatabaseError unless the connected database is jianfu's, migrated to the newest revision."""
    where, hint = describe(url), migrate_hint(url)
    names = set(inspect(conn).get_table_names())
    if not names:
        raise DatabaseError(f"{where} 是空数据库，还没有减负（jianfu）的表：请运行 {hint}")
    if not names >= JIANFU_TABLES or "alembic_version" not in names:
        raise DatabaseError(
            f"{where} 不是减负（jianfu）数据库：缺少 people / messages / groups 表；"
            "请检查 --db 或配置里的数据库地址"
        )
    version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if version != head_revision():
        raise DatabaseError(
            f"{where} 的数据库结构是第 {version} 版，本程序需要第 {head_revision()} 版：请运行 {hint}"
        )


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
    """A read-write engine; a missing SQLite file is created owner-only."""
    url = sync_url(url)
    path = sqlite_path(url)
    if path is not None:
        ensure_private_file(path)
    engine = create_engine(url)
    if path is not None:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_readonly(url: str) -> Engine:
    """An engine for commands that only read: nothing is created, chmodded or written.

    A SQLite file is opened with ``mode=ro``; the database must exist and be a jianfu
    database at the newest revision, otherwise DatabaseError says what to run. (Reading
    a WAL database needs its ``-shm`` index: SQLite itself creates it, and ``-wal``,
    next to the file with the file's own permissions, as for any reader.)
    """
    url = sync_url(url)
    path = sqlite_path(url)
    if path is None:
        engine = create_engine(url, execution_options={"postgresql_readonly": True})
    else:
        check_sqlite_file(path, url)
        engine = open_readonly_unchecked(path)
    try:
        with engine.connect() as conn:
            check_schema(conn, url)
    except BaseException:
        engine.dispose()
        raise
    return engine


def open_readonly_unchecked(path: Path) -> Engine:
    """An engine over an existing SQLite file opened with ``mode=ro`` and ``query_only``."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
    )
    event.listen(engine, "connect", _readonly_pragmas)
    return engine


def open_existing(url: str) -> Engine:
    """A read-write engine for a database that must already exist and be jianfu's."""
    open_readonly(url).dispose()
    return make_engine(url)


def _readonly_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


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


def _refuse_foreign(names: set[str], url: str) -> None:
    if names and "alembic_version" not in names:
        raise DatabaseError(
            f"{describe(url)} 里已有别的表（{'、'.join(sorted(names)[:5])}），"
            "不是减负（jianfu）数据库，不会改动它：请换一个新文件或新库"
        )


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` with Alembic.

    An existing file that is not SQLite, or a database holding other tables, is
    refused before anything touches it (even the WAL switch on connect).
    """
    from alembic import command

    path = sqlite_path(sync_url(url))
    if path is not None and path.exists() and path.stat().st_size:
        check_sqlite_file(path, url)
        reader = open_readonly_unchecked(path)
        try:
            with reader.connect() as conn:
                _refuse_foreign(set(inspect(conn).get_table_names()), url)
        finally:
            reader.dispose()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if path is None:
                _refuse_foreign(set(inspect(conn).get_table_names()), url)
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
