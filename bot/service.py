"""Production wiring: config → database → adapters → bot → digest scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.onebot.adapter import CatchUpState, OneBotAdapter
from bot.app import JianfuBot
from bot.config import Config, ConfigError
from bot.events import ChatAdapter
from bot.roster import apply_roster, config_entries, parse_roster
from bot.saved_digests import forget_in_saved_digests
from bot.scheduler import DigestScheduler
from bot.store import truncate_wal
from metrics.db import make_async_engine, migrate, safe_url

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
        if not config.wechat.token:
            raise ConfigError(
                f"wechat is enabled but the environment variable {config.wechat.token_env} is empty"
            )
        from bot.adapters.wechat.adapter import WeChatAdapter

        adapters["wechat"] = WeChatAdapter(
            config.wechat.endpoint, config.wechat.token, cache_dir=cache_dir
        )
    if config.qq.enabled:
        if not config.qq.access_token:
            raise ConfigError(
                f"qq is enabled but the environment variable {config.qq.access_token_env} is empty;"
                " an access token is mandatory for OneBot"
            )
        adapters["qq"] = OneBotAdapter(
            mode=config.qq.mode,
            host=config.qq.host,
            port=config.qq.port,
            path=config.qq.path,
            access_token=config.qq.access_token,
            forward_url=config.qq.forward_url,
            send_rate_per_second=config.qq.send_rate_per_second,
            state=qq_state,
        )
    if not adapters:
        raise ConfigError(
            "no platform is enabled: set [wechat] enabled = true and/or [qq] enabled = true"
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
    """Run until SIGINT/SIGTERM; buffered messages are flushed on the way out."""
    await asyncio.to_thread(migrate, config.database_url)
    engine = make_async_engine(config.database_url)
    now = datetime.now(UTC)
    people = await load_people(engine, config, now)
    units = await unit_lookup(engine)
    adapters = build_adapters(config, Path(".wechaty"), await qq_catch_up_state(engine))
    bot = JianfuBot(config, engine, adapters, unit_of=lambda p, x: units.get((p, x)))
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
    await asyncio.wait(
        [runner, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    scheduler.shutdown()
    await bot.stop()
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await runner
    await engine.dispose()
