"""The edge of the ``jianfu`` command: every error becomes one Chinese line and a documented exit code.

Commands raise the libraries' own errors (BotError, MetricsError, SQLAlchemy and OS
errors); ``JianfuGroup`` translates them here, in one place, so no traceback reaches
a user unless they ask for it with ``-v``.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.config import Config, ConfigError, load_config
from bot.events import BotError
from metrics.db import describe, os_reason
from metrics.errors import DatabaseError, MetricsError

EXIT_RUNTIME = 1  # the command ran and failed: platform, sending, files, no data yet
EXIT_USAGE = 2  # wrong options, config, roster, calendar or input file
EXIT_DATABASE = 3  # database missing, foreign, not migrated, unreachable or unwritable
EXIT_INTERRUPTED = 130  # Ctrl+C

EXIT_CODES_HELP = """\b
退出码：
  0    成功
  1    运行失败（平台连接或发送失败、读写文件失败、还没有数据）
  2    用法、配置文件、花名册、日历或输入文件有误
  3    数据库问题（不存在、不是减负数据库、需要 jianfu migrate、无法连接或写入）
  130  被 Ctrl+C 中断
出错时只打印一行说明；加 -v（如 jianfu -v digest ...）同时打印出错位置（traceback）。"""

_DATABASE_KEY = "jianfu.database"

# What a driver's message means, for the one line the user reads (checked in order).
_DATABASE_REASONS = (
    ("password authentication failed", "用户名或密码不对"),
    ("does not exist", "数据库不存在（PostgreSQL 里还没有建这个库）"),
    ("connection refused", "连接被拒绝（数据库服务器没有运行，或主机、端口写错了）"),
    ("could not translate host name", "主机名无法解析"),
    ("timeout", "连接超时"),
    ("connection failed", "连接数据库服务器失败"),
    ("readonly database", "数据库文件只读，无法写入"),
    ("read-only", "数据库只读，无法写入"),
    ("database or disk is full", "磁盘已满，无法写入"),
    ("disk i/o error", "磁盘读写出错"),
    ("database is locked", "数据库被其他程序锁定，请稍后再试"),
    ("unable to open database file", "无法打开数据库文件（目录不存在或没有权限）"),
    ("file is not a database", "不是 SQLite 数据库文件"),
    ("no such table", "缺少减负的表：请先运行 jianfu migrate"),
)


class CommandError(click.ClickException):
    """One Chinese line with its exit code, raised by the commands themselves."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]


def _database_reason(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    low = first.lower()
    return next((zh for needle, zh in _DATABASE_REASONS if needle in low), first)


def translate(e: BaseException, database: str | None) -> tuple[int, str]:
    """The exit code and the message for an error that reached the command line."""
    if isinstance(e, BaseExceptionGroup):
        # Concurrent start-up steps (asyncio.TaskGroup) fail together: one line each, the
        # first one's exit code.
        parts = [translate(sub, database) for sub in e.exceptions]
        return parts[0][0], "；".join(dict.fromkeys(m for _, m in parts))
    db = database or "数据库"
    if isinstance(e, DatabaseError):
        return EXIT_DATABASE, str(e)
    if isinstance(e, ConfigError | MetricsError):
        return EXIT_USAGE, str(e)
    if isinstance(e, BotError):
        return EXIT_RUNTIME, str(e)
    if isinstance(e, DBAPIError):
        return EXIT_DATABASE, f"无法使用数据库 {db}：{_database_reason(e)}"
    if isinstance(e, SQLAlchemyError):
        return EXIT_DATABASE, f"数据库 {db} 出错：{_database_reason(e)}"
    if isinstance(e, ModuleNotFoundError) and e.name in ("psycopg", "asyncpg", "psycopg2"):
        return EXIT_DATABASE, (
            f"使用 PostgreSQL 需要可选依赖（缺少 {e.name}）：请安装 jianfu[postgres]"
        )
    if isinstance(e, OSError):
        where = f" {e.filename}" if e.filename else ""
        missing = e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)
        return (EXIT_USAGE if missing else EXIT_RUNTIME), f"无法读写文件{where}：{os_reason(e)}"
    return EXIT_RUNTIME, f"内部错误 {type(e).__name__}：{e}（加 -v 重新运行可看到出错位置）"


class JianfuGroup(click.Group):
    """The top-level group: translates errors once for every subcommand."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as e:
            if isinstance(e, OSError) and e.errno == errno.EPIPE:
                raise
            code, message = translate(e, ctx.meta.get(_DATABASE_KEY))
            if ctx.params.get("verbose"):
                click.echo(traceback.format_exc(), err=True, nl=False)
            raise CommandError(message, code) from e

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:
            e.show()
            _exit(e.exit_code)
        except click.UsageError as e:
            hint = f"（用 {e.ctx.command_path} -h 查看用法）" if e.ctx else ""
            click.echo(f"用法错误：{e.format_message()}{hint}", err=True)
            _exit(EXIT_USAGE)
        except click.ClickException as e:
            click.echo(e.format_message(), err=True)
            _exit(e.exit_code)
        except click.Abort:
            click.echo("已中断", err=True)
            _exit(EXIT_INTERRUPTED)
        except OSError as e:
            if e.errno != errno.EPIPE:
                raise
            # The reader went away (`jianfu classify ... | head`): exit quietly, and
            # point stdout at /dev/null so the final flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            _exit(EXIT_RUNTIME)
        _exit(rv if isinstance(rv, int) else 0)


def _exit(code: int) -> NoReturn:
    sys.exit(code)


def database_url(config: Config, db: str | None) -> str:
    """The database a command uses: ``--db`` (a URL or a SQLite file path) over the config."""
    url = config.database_url
    if db:
        url = db if "://" in db else f"sqlite:///{db}"
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        # Named in messages about database errors the libraries raise without a name.
        ctx.find_root().meta[_DATABASE_KEY] = describe(url)
    return url


def load(config_path: Path | None, db: str | None = None) -> Config:
    """The config (built-in defaults without ``--config``) with ``--db`` applied."""
    config = load_config(config_path)
    url = database_url(config, db)
    return replace(config, database_url=url) if url != config.database_url else config


__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_DATABASE",
    "EXIT_INTERRUPTED",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "CommandError",
    "ConfigError",
    "JianfuGroup",
    "database_url",
    "load",
    "translate",
]
