"""Production wiring: config → database → adapters → bot → digest scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.onebot import CatchUpState, OneBotAdapter
from bot.app import JianfuBot
from bot.config import Config, ConfigError, read_token
from bot.config_schema import is_loopback
from bot.database_check import DatabaseUnwritable, check_writable, open_database, spill_file
from bot.events import BotError, ChatAdapter
from bot.ingest import DatabaseUnavailable
from bot.roster import apply_roster, config_entries, parse_roster
from bot.saved_digests import forget_in_saved_digests
from bot.scheduler import DigestScheduler
from bot.store import truncate_wal
from metrics.db import make_async_engine, safe_url

log = logging.getLogger(__name__)


async def qq_catch_up_state(engine: AsyncEngine) -> CatchUpState:
    """Where each monitored QQ group's record ends, so a restart catches up from there.

    Messages fetched twice are harmless: the database keeps one row per message id.
    """
    from sqlalchemy import select

    from metrics.models import Group

    state = CatchUpState()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Group.external_id, Group.last_message_at, Group.consented_at).where(
                    Group.platform == "qq", Group.state == "active"
                )
            )
        ).all()
    for external_id, last_message_at, consented_at in rows:
        since = last_message_at or consented_at
        if since is not None:
            state.start_watching(external_id, since)
    return state


def build_adapters(
    config: Config, cache_dir: Path, qq_state: CatchUpState | None = None
) -> dict[str, ChatAdapter]:
    adapters: dict[str, ChatAdapter] = {}
    if config.wechat.enabled:
        token = read_token(config.wechat.token_env, "微信（[wechat] enabled = true）")
        from bot.adapters.wechat.adapter import WeChatAdapter

        adapters["wechat"] = WeChatAdapter(config.wechat.endpoint, token, cache_dir=cache_dir)
    if config.qq.enabled:
        access_token = read_token(config.qq.access_token_env, "QQ（[qq] enabled = true）")
        if config.qq.mode == "reverse" and not is_loopback(config.qq.host):
            # Only reachable with [qq] allow_remote = true (checked at load).
            log.warning(
                "[qq] allow_remote = true: the OneBot server listens on %s:%d and accepts"
                " connections from other machines; keep it behind a firewall",
                config.qq.host,
                config.qq.port,
            )
        adapters["qq"] = OneBotAdapter(
            mode=config.qq.mode,
            host=config.qq.host,
            port=config.qq.port,
            path=config.qq.path,
            access_token=access_token,
            forward_url=config.qq.forward_url,
            send_rate_per_second=config.qq.send_rate_per_second,
            state=qq_state,
        )
    if not adapters:
        raise ConfigError(
            "没有启用任何平台：请在配置里写 [wechat] enabled = true 和/或 [qq] enabled = true"
        )
    return adapters


async def load_people(engine: AsyncEngine, config: Config, now: datetime) -> int:
    """Apply the roster file and [[units]] members to the database."""
    entries = config_entries(config)
    if config.roster is not None:
        entries += parse_roster(config.roster)
    async with engine.begin() as conn:
        applied = await conn.run_sync(lambda c: apply_roster(c, entries, now))
    for forgotten in applied.forgotten:  # an opt-out carried over to a roster person
        await forget_in_saved_digests(engine, config, forgotten)
    if applied.forgotten:
        await truncate_wal(engine)
    return applied.written


async def unit_lookup(engine: AsyncEngine) -> dict[tuple[str, str], str]:
    from sqlalchemy import select

    from metrics.models import Identity, Person

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Identity.platform, Identity.external_id, Person.unit)
                .join(Person, Person.id == Identity.person_id)
                .where(Person.unit.is_not(None))
            )
        ).all()
    return {(r.platform, r.external_id): r.unit for r in rows}


async def run_service(config: Config) -> None:
    """Run until SIGINT/SIGTERM; buffered messages are flushed (or spilled) on the way out.

    Raises DatabaseUnwritable when the database cannot be written at start, and
    PlatformsFailed when no platform could start at all.
    """
    await open_database(config.database_url)
    engine = make_async_engine(config.database_url)
    try:
        await check_writable(engine, config.database_url)
        await _serve(config, engine)
    finally:
        await engine.dispose()


async def _serve(config: Config, engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    people = await load_people(engine, config, now)
    units = await unit_lookup(engine)
    adapters = build_adapters(config, Path(".wechaty"), await qq_catch_up_state(engine))
    bot = JianfuBot(
        config,
        engine,
        adapters,
        unit_of=lambda p, x: units.get((p, x)),
        spill=spill_file(config.database_url),
    )
    try:
        await bot.recorder.replay()
    except DatabaseUnavailable as e:
        raise DatabaseUnwritable(f"无法写回上次未写入的消息：{e}") from None
    scheduler = DigestScheduler(engine, config, bot.send_to, clock=lambda: datetime.now(UTC))
    log.info(
        "jianfu running: database %s, %d roster people, platforms %s",
        safe_url(config.database_url),
        people,
        ", ".join(adapters),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await scheduler.start()
    runner = asyncio.create_task(bot.run())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([runner, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    await scheduler.stop()
    await bot.stop()
    if runner.done():
        runner.result()  # PlatformsFailed: every platform failed as it started
    else:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    if bot.recorder.lost:
        raise BotError(
            f"有 {bot.recorder.lost} 条消息既无法写入数据库，也无法写入备用文件，已丢失（详见日志）。"
        )
