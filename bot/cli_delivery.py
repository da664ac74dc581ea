"""``jianfu delivery status`` and ``jianfu delivery retry``: what became of each weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Connection, select

from bot.cli_base import CommandError, load
from bot.config import Ref
from bot.delivery import STUCK_AFTER, StuckDelivery, release_stuck, stuck_deliveries

__all__ = ["register"]

_STATUS = {"sent": "已发送", "sending": "发送中", "failed": "发送失败（会自动重试）"}
_MINUTES = STUCK_AFTER // timedelta(minutes=1)

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (database, time zone).",
)
DB_OPTION = click.option(
    "--db", "db_url", default=None, help="SQLite file or database URL; overrides the config."
)


@click.group()
def delivery() -> None:
    """See which weekly digests were sent, failed or got stuck, and release stuck ones.

    \b
    A digest goes to each head at most once. A send interrupted by a crash stays
    "sending": jianfu cannot know whether it arrived, so it is listed here and sent
    again only after `jianfu delivery retry`.

    \b
    Examples:
      jianfu delivery status --db data/jianfu.sqlite3
      jianfu delivery retry --week 2026-W47 --unit 镇党政办 --db data/jianfu.sqlite3
    """


def _rows(conn: Connection, week: str | None) -> list[tuple[str, str, str, str, str, datetime]]:
    from metrics.models import Digest

    query = select(
        Digest.week,
        Digest.unit,
        Digest.recipient_platform,
        Digest.recipient_id,
        Digest.status,
        Digest.created_at,
    )
    if week is None:
        latest = conn.execute(select(Digest.week).order_by(Digest.week.desc()).limit(1))
        week = latest.scalar()
    rows = conn.execute(query.where(Digest.week == week).order_by(Digest.unit)).all()
    return [tuple(r) for r in rows]


def _stuck_hint(stuck: list[StuckDelivery]) -> list[str]:
    lines = [
        f"有 {len(stuck)} 份周报卡在“发送中”超过 {_MINUTES} 分钟：机器人在发出和记录之间停止了，"
        "收件人可能已经收到，也可能没有。请先向收件人确认；确认没收到再重发："
    ]
    lines += [
        f"  jianfu delivery retry --week {s.week} --unit {s.unit} --to {s.recipient}" for s in stuck
    ]
    return lines


@delivery.command("status")
@click.option("--week", default=None, help="ISO week, e.g. 2026-W47. Default: the latest week.")
@CONFIG_OPTION
@DB_OPTION
def status(week: str | None, config_path: Path | None, db_url: str | None) -> None:
    """List the digests of a week with their state, and every stuck send of any week.

    \b
    Example:
      jianfu delivery status --week 2026-W47 --db data/jianfu.sqlite3
    """
    from metrics.db import open_readonly

    config = load(config_path, db_url)
    tz = ZoneInfo(config.timezone)
    now = datetime.now(UTC)
    engine = open_readonly(config.database_url)
    try:
        with engine.connect() as conn:
            rows = _rows(conn, week)
            stuck = stuck_deliveries(conn, now)
    finally:
        engine.dispose()
    stuck_keys = {(s.week, s.unit, str(s.recipient)) for s in stuck}
    if not rows:
        click.echo(f"{week} 没有周报记录。" if week else "还没有发送过周报。")
    for w, unit, platform, ext, state, created in rows:
        label = _STATUS.get(state, state)
        if (w, unit, f"{platform}:{ext}") in stuck_keys:
            label = "卡在发送中（可能已送达，需人工确认）"
        click.echo(
            f"{w} {unit} → {platform}:{ext}：{label}（{created.astimezone(tz):%m-%d %H:%M}）"
        )
    for line in _stuck_hint(stuck) if stuck else []:
        click.echo(line)


@delivery.command("retry")
@click.option("--week", required=True, help="ISO week of the stuck digest, e.g. 2026-W47.")
@click.option("--unit", default=None, help="Only this unit's digest.")
@click.option("--to", "to", default=None, help="Only this recipient, as platform:id.")
@CONFIG_OPTION
@DB_OPTION
def retry(
    week: str, unit: str | None, to: str | None, config_path: Path | None, db_url: str | None
) -> None:
    """Allow stuck digests to be sent again (after checking they did not arrive).

    The running bot sends them within ten minutes, or at its next start.

    \b
    Example:
      jianfu delivery retry --week 2026-W47 --unit 镇党政办 --to wechat:wxid_wang01 --db data/jianfu.sqlite3
    """
    from metrics.db import open_existing

    config = load(config_path, db_url)
    recipient = Ref.parse(to, "--to") if to else None
    engine = open_existing(config.database_url)
    try:
        with engine.begin() as conn:
            released = release_stuck(conn, datetime.now(UTC), week, unit, recipient)
    finally:
        engine.dispose()
    if not released:
        raise CommandError(
            f"{week} 没有符合条件、卡在“发送中”超过 {_MINUTES} 分钟的周报（jianfu delivery status 可查看）"
        )
    for s in released:
        click.echo(f"已允许重发：{s.week} {s.unit} → {s.recipient}")
    click.echo("运行中的 jianfu 会在 10 分钟内重新发送；没有运行时，下次启动时发送。")


def register(main: click.Group) -> None:
    """Add ``delivery`` to the ``jianfu`` command group."""
    main.add_command(delivery)
