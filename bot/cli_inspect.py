"""The ``jianfu inspect`` and ``jianfu export`` commands for inspectors and unit heads."""

from __future__ import annotations

import contextlib
import os
import socket
from datetime import datetime
from pathlib import Path

import click

from bot.cli_base import EXIT_RUNTIME, CommandError, load

__all__ = ["register"]

PASSWORD_ENV = "JIANFU_INSPECT_PASSWORD"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@click.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--port", default=8001, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--password",
    is_flag=True,
    help=f"Require a login (user: inspector). Password from ${PASSWORD_ENV} or a prompt.",
)
@click.option(
    "--immutable",
    is_flag=True,
    help="Open as immutable (faster; only for a copy nobody writes). Default: read-only.",
)
def inspect(db: Path, port: int, password: bool, immutable: bool) -> None:
    """Browse a jianfu SQLite file read-only in Datasette, with Chinese descriptions.

    \b
    Serves on http://127.0.0.1:PORT/ only. Ready-made queries: 本周负担最重,
    非工作时间发送要求最多的人, 重复要求, 沉寂群, 重叠群. Views and columns are
    explained in docs/inspectors.md.

    \b
    Examples:
      jianfu inspect data/jianfu.sqlite3
      jianfu inspect data/jianfu.sqlite3 --port 8002
      JIANFU_INSPECT_PASSWORD=... jianfu inspect data/jianfu.sqlite3 --password
    """
    from metrics.inspect import USERNAME, build_datasette, hash_password, serve

    if not _port_free(port):
        raise CommandError(f"端口 {port} 已被占用，请用 --port 换一个端口", EXIT_RUNTIME)
    password_hash = None
    if password:
        secret = os.environ.get(PASSWORD_ENV) or click.prompt(
            "设置访问密码", hide_input=True, confirmation_prompt=True
        )
        password_hash = hash_password(secret)
    ds = build_datasette(db, password_hash=password_hash, immutable=immutable)
    click.echo(f"只读打开 {db}，请在浏览器访问 http://127.0.0.1:{port}/ （按 Ctrl+C 结束）")
    if password:
        click.echo(f"登录地址 http://127.0.0.1:{port}/-/login ，用户名 {USERNAME}")
    with contextlib.suppress(KeyboardInterrupt):
        serve(ds, port)


@click.command()
@click.option("--week", default=None, help="First ISO week, e.g. 2026-W47.")
@click.option("--to", "to_week", default=None, help="Last ISO week (default: --week only).")
@click.option(
    "--from",
    "since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day instead of weeks, e.g. 2026-10-01 (whole ISO weeks are exported).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day, with --from.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="xlsx: the workbook. csv: the name stem; writes STEM-人员.csv and STEM-工作群.csv.",
)
@click.option("--unit", default=None, help="Only this unit (as in the roster).")
@click.option("--db", "db", default=None, help="SQLite file or database URL; overrides the config.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (time zone, database).",
)
def export(
    week: str | None,
    to_week: str | None,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    out: Path,
    unit: str | None,
    db: str | None,
    config_path: Path | None,
) -> None:
    """Export per-person and per-group weekly figures to Excel or CSV.

    \b
    Opted-out people are never exported. Sheets: 人员 and 工作群.

    \b
    Examples:
      jianfu export --week 2026-W47 --format xlsx --out 减负-W47.xlsx --db data/jianfu.sqlite3
      jianfu export --week 2026-W45 --to 2026-W48 --format csv --out 十一月 --db data/jianfu.sqlite3
      jianfu export --from 2026-10-01 --until 2026-10-31 --out 十月.xlsx --db data/jianfu.sqlite3
    """
    from metrics.db import open_readonly
    from metrics.export import export as do_export
    from metrics.export import weeks_between, weeks_of_dates

    config = load(config_path, db)
    if since is not None or until is not None:
        if since is None or until is None:
            raise click.UsageError("--from 和 --until 要一起给出")
        weeks = weeks_of_dates(since.date(), until.date())
    elif week is None:
        raise click.UsageError("请给出 --week（可加 --to），或 --from 和 --until")
    else:
        weeks = weeks_between(week, to_week or week, config.timezone)
    engine = open_readonly(config.database_url)
    try:
        with engine.connect() as conn:
            paths = do_export(conn, weeks, fmt, out, config.timezone, unit)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    for path in paths:
        click.echo(f"已写入 {path}")


def register(main: click.Group) -> None:
    """Add ``inspect`` and ``export`` to the ``jianfu`` command group."""
    main.add_command(inspect)
    main.add_command(export)


if __name__ == "__main__":
    # `python -m bot.cli_inspect ...` works before bot/cli.py registers the commands.
    from bot.cli_base import JianfuGroup

    @click.group(cls=JianfuGroup)
    def _standalone() -> None:
        """jianfu inspector commands."""

    register(_standalone)
    _standalone()
