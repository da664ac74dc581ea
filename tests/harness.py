"""A whole jianfu bot on loopback for tests: the real python-wechaty client, a gRPC puppet
service from the simulator, a real SQLite file and a hand-moved clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.adapters.onebot.adapter import OneBotAdapter
from bot.adapters.wechat.adapter import WeChatAdapter
from bot.adapters.wechat.compat import reset_wechaty_caches
from bot.app import JianfuBot
from bot.config import Config, ConfigError, DigestConfig, Ref
from bot.events import ChatAdapter, Connected, Event
from bot.roster import RosterEntry, apply_roster
from bot.service import qq_catch_up_state
from bot.simulator.demo import wait_until
from bot.simulator.onebot_peer import SimulatedOneBot
from bot.simulator.puppet_service import PuppetService
from metrics.db import make_async_engine

BOT_WX = "wx_bot"
BOT_QQ = 90000


class Harness:
    def __init__(self, bot: JianfuBot, puppet: PuppetService, peer: SimulatedOneBot | None) -> None:
        self.bot = bot
        self.puppet = puppet
        self.peer = peer
        self.events: list[Event] = []

    @property
    def engine(self) -> Any:
        return self.bot.engine

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        await self.bot.recorder.flush()
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def scalar(self, sql: str, **params: Any) -> Any:
        rows = await self.rows(sql, **params)
        return rows[0][0]

    async def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
        await wait_until(predicate, what, timeout, poll=0.02)

    async def settle(self, count_sql: str, expected: int, **params: Any) -> None:
        """Wait until a count query reaches ``expected`` (events are processed asynchronously)."""

        async def reached() -> bool:
            return bool(await self.scalar(count_sql, **params) >= expected)

        await self.wait(reached, f"{count_sql} to reach {expected}")

    async def wechat_say(
        self,
        room: str,
        talker: str,
        text_: str,
        at: datetime,
        mentions: tuple[str, ...] = (),
        mention_all: bool = False,
    ) -> str:
        return await self.puppet.post_room_message(
            room, talker, text_, mention_ids=mentions, mention_all=mention_all, at=at
        )

    async def wait_group_reply(self, room: str, needle: str) -> str:
        sent = await self.puppet.wait_sent(
            lambda s: s.conversation_id == room and needle in s.text, 10
        )
        return sent.text


def apply(config: Config, entries: list[RosterEntry], url: str, now: datetime) -> None:
    from metrics.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        apply_roster(conn, entries, now)
    engine.dispose()


@asynccontextmanager
async def running_bot(
    db_url: str,
    tmp_path: Path,
    clock: Callable[[], datetime],
    *,
    rooms: list[tuple[str, str, str, list[str]]],
    contacts: dict[str, str],
    roster: list[RosterEntry] = (),  # type: ignore[assignment]
    admins: tuple[str, ...] = (),
    qq_groups: list[tuple[int, str, list[tuple[int, str, str, str]]]] = (),  # type: ignore[assignment]
    store_text: bool = False,
    peer: SimulatedOneBot | None = None,
) -> AsyncIterator[Harness]:
    """Start puppet service (+ optional OneBot peer) and the bot; stop everything after."""
    reset_wechaty_caches()
    puppet = PuppetService(token="test-token-123", self_id=BOT_WX)
    for cid, name in contacts.items():
        puppet.add_contact(cid, name)
    for room_id, topic, owner, members in rooms:
        puppet.add_room(room_id, topic, owner, [*members, BOT_WX])
    endpoint = await puppet.start()
    config = Config(
        database_url=db_url,
        digest=DigestConfig(out_dir=tmp_path / "digests"),
        flush_seconds=0.1,
    )
    from bot.config import ConsentConfig, PrivacyConfig

    config = replace(
        config,
        consent=ConsentConfig(admins=tuple(Ref.parse(a, "admins") for a in admins)),
        privacy=PrivacyConfig(store_text=store_text),
    )
    if roster:
        apply(config, list(roster), db_url, clock())
    engine = make_async_engine(db_url)
    adapters: dict[str, ChatAdapter] = {
        "wechat": WeChatAdapter(
            endpoint, "test-token-123", cache_dir=tmp_path / ".wechaty", reconnect_delay=0.2
        )
    }
    qq: OneBotAdapter | None = None
    if qq_groups and peer is None:
        peer = SimulatedOneBot(self_id=BOT_QQ)
        for gid, name, members in qq_groups:
            peer.add_group(gid, name, members)
    if peer is not None:
        # Like `jianfu run`: a restarted bot resumes QQ groups from the database.
        state = await qq_catch_up_state(engine)
        qq = OneBotAdapter(host="127.0.0.1", port=0, access_token="qq-token-456", state=state)
        adapters["qq"] = qq
    units = {(e_p, e_id): e.unit for e in roster for e_p, e_id in e.identities()}
    bot = JianfuBot(config, engine, adapters, clock=clock, unit_of=lambda p, x: units.get((p, x)))
    harness = Harness(bot, puppet, peer)
    bot.observers.append(harness.events.append)
    runner = asyncio.create_task(bot.run())
    try:
        if qq is not None and peer is not None:
            await qq.wait_ready()
            await peer.connect(f"ws://127.0.0.1:{qq.bound_port}/onebot/v11/ws", "qq-token-456")
        want = set(adapters)
        await harness.wait(
            lambda: want <= {e.platform for e in harness.events if isinstance(e, Connected)},
            "login",
        )
        yield harness
    finally:
        await bot.stop()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        if peer is not None:
            await peer.disconnect()
        await puppet.stop()
        await engine.dispose()
        reset_wechaty_caches()


__all__ = ["BOT_QQ", "BOT_WX", "ConfigError", "Harness", "running_bot"]
