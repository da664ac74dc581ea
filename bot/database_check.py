"""Before ``jianfu run`` records anything: can the database be written? One clear line if not.

A read-only folder, a full disk or a locked file used to surface as a SQLAlchemy
traceback at start, or worse, as a bot that started and then could not write a
single message. Here they become ``DatabaseUnwritable`` with a Chinese sentence
that names the file and the cause.
"""

from __future__ import annotations

import asyncio
import errno
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.events import BotError
from bot.spill import SpillFile
from metrics.db import migrate, safe_url, sqlite_path
from metrics.errors import DatabaseError
from metrics.models import QuarantinedMessage

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Below this much free space SQLite cannot be relied on to commit a batch.
MIN_FREE_BYTES = 1 << 20

_OS_REASONS = {
    errno.ENOSPC: "磁盘已满",
    errno.EDQUOT: "磁盘配额已用完",
    errno.EROFS: "所在文件系统是只读的",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.ENOENT: "目录不存在",
}
_SQLITE_REASONS = {
    "database or disk is full": "磁盘已满",
    "readonly database": "数据库文件或所在目录是只读的",
    "unable to open database file": "无法打开数据库文件（目录不存在、只读或没有权限）",
    "database is locked": "数据库被另一个程序锁定",
    "disk i/o error": "磁盘读写出错",
}


class DatabaseUnwritable(BotError, DatabaseError):
    """The database cannot be written, so the bot would record nothing (exit code 3)."""


def spill_file(url: str) -> SpillFile:
    """Where records go when the database cannot take them at shutdown."""
    path = sqlite_path(url)
    if path is not None:
        return SpillFile.next_to(path)
    return SpillFile(Path("data") / "jianfu-database.spill.jsonl")


def describe(error: BaseException, url: str) -> str:
    """One Chinese line naming the database and why it cannot be written."""
    path = sqlite_path(url)
    where = str(path) if path is not None else safe_url(url)
    return f"无法写入数据库 {where}：{_reason(error)}。请检查磁盘空间和目录权限后重试。"


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return _OS_REASONS.get(error.errno or 0, error.strerror or str(error))
    text = str(getattr(error, "orig", None) or error)
    lowered = text.lower()
    for needle, reason in _SQLITE_REASONS.items():
        if needle in lowered:
            return reason
    return text.splitlines()[0][:200] if text else type(error).__name__


async def open_database(url: str) -> None:
    """Create or migrate the database; DatabaseUnwritable if that cannot be done."""
    try:
        await asyncio.to_thread(migrate, url)
    except (OSError, sa_exc.OperationalError) as e:
        raise DatabaseUnwritable(describe(e, url)) from None


async def check_writable(engine: AsyncEngine, url: str) -> None:
    """Fail now, with one line, if the database cannot take a write.

    Checks the free space next to a SQLite file, then commits a write that
    leaves nothing behind (a row added and removed in one transaction).
    """
    path = sqlite_path(url)
    if path is not None:
        free = shutil.disk_usage(path.parent).free
        if free < MIN_FREE_BYTES:
            raise DatabaseUnwritable(describe(OSError(errno.ENOSPC, "no space"), url))
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(QuarantinedMessage).values(
                    platform="probe", platform_msg_id="", quarantined_at=_EPOCH, reason=""
                )
            )
            await conn.execute(
                delete(QuarantinedMessage).where(QuarantinedMessage.platform == "probe")
            )
    except (OSError, sa_exc.OperationalError) as e:
        raise DatabaseUnwritable(describe(e, url)) from None
