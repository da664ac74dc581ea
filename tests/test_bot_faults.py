"""The whole bot under faults: slow sends at shutdown, late messages, an unwritable database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, text

from metrics.db import make_engine
from tests.conftest import Clock
from tests.harness import Harness, running_bot

SH = ZoneInfo("Asia/Shanghai")
QQ_GROUP = (5005, "镇网格化管理群", [(1001, "王主任", "", "owner"), (1002, "小李", "", "member")])
ROOM = ("room1@chatroom", "镇党政办工作群", "wx_wang", ["wx_wang", "wx_li"])
CONTACTS = {"wx_wang": "王主任", "wx_li": "李干事"}


def stored(db_url: str, sql: str = "SELECT COUNT(*) FROM messages") -> Any:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


async def test_stopping_records_every_message_received_while_replies_wait(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Six 帮助 replies queue behind QQ's 1/s pacer; the 100 messages after them are all kept."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=[], contacts={}, qq_groups=[QQ_GROUP]
    ) as h:
        assert h.peer is not None
        await h.peer.post_group_message(5005, 1001, "同意记录")
        await h.peer.wait_sent(lambda s: "已开始统计" in s.text, 10)
        for _ in range(6):
            await h.peer.post_private_message(1002, "小李", "帮助")
        for i in range(100):
            await h.peer.post_group_message(5005, 1002, f"收到{i}")
        # Leaving the block stops the bot at once, as SIGTERM does.
    assert 100 == stored(db_url)


async def test_nothing_sent_before_the_consent_is_recorded_whenever_it_arrives(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """A message dated before 同意记录 but delivered after it (a late frame) is not recorded."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=[ROOM], contacts=CONTACTS, qq_groups=[QQ_GROUP]
    ) as h:
        assert h.peer is not None
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        await h.wechat_say("room1@chatroom", "wx_wang", "同意记录", clock.now)
        await h.peer.post_group_message(5005, 1001, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 2)
        before, after = clock.now - timedelta(hours=2), clock.now + timedelta(minutes=1)
        await h.wechat_say("room1@chatroom", "wx_li", "昨天的通知", before)
        await h.peer.post_group_message(5005, 1002, "早上的通知", at=before)
        await h.wechat_say("room1@chatroom", "wx_li", "收到", after)
        await h.peer.post_group_message(5005, 1002, "收到", at=after)
        await h.settle("SELECT COUNT(*) FROM messages", 2)
        times = {r[0] for r in await h.rows("SELECT sent_at FROM messages")}
    assert 2 == stored(db_url)
    assert {after.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)} == {
        datetime.fromisoformat(str(t)) for t in times
    }


def refuse_writes(h: Harness, flag: dict[str, bool]) -> None:
    """While ``flag["on"]``, every new connection of the bot's engine is query-only (SQLITE_READONLY)."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        if flag["on"]:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA query_only = ON")
            cur.close()

    event.listen(h.engine.sync_engine, "connect", on_connect)


async def test_commands_get_a_short_apology_while_the_database_cannot_be_written(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Private and group commands are answered (in Chinese) instead of silently dropped."""
    async with running_bot(db_url, tmp_path, clock, rooms=[ROOM], contacts=CONTACTS) as h:
        await h.wait_group_reply("room1@chatroom", "同意记录")  # the announcement went out
        flag = {"on": True}
        refuse_writes(h, flag)
        await h.engine.dispose()  # pooled connections are replaced by refusing ones
        await h.puppet.post_private_message("wx_li", "我的负担")
        private = await h.puppet.wait_sent(lambda s: s.conversation_id == "wx_li", 10)
        await h.wechat_say("room1@chatroom", "wx_wang", "同意记录", clock.now)
        group = await h.wait_group_reply("room1@chatroom", "无法写入")
        flag["on"] = False
        await h.engine.dispose()
        await h.wechat_say("room1@chatroom", "wx_wang", "同意记录", clock.now)
        await h.wait_group_reply("room1@chatroom", "已开始统计")
    assert "数据库暂时无法写入" in private.text
    assert "请稍后再试" in group
