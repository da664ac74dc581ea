"""The WeChat adapter's edge: what comes off the puppet service is cleaned, and a stop loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.wechat import compat
from bot.adapters.wechat.adapter import WeChatAdapter
from bot.events import Connected, Event, GroupMessage
from bot.simulator.puppet_service import PuppetService
from tests.wechat_fixtures import Recorder, finish_adapter, start_adapter

TOKEN = "puppet-token-edge-51c2"
ROOM = "30001@chatroom"


@pytest.fixture
async def service() -> AsyncIterator[PuppetService]:
    compat.reset_wechaty_caches()
    svc = PuppetService(token=TOKEN, self_id="bot", self_name="减负助手")
    svc.add_contact("wang", "王\x00主任\x1b")
    svc.add_contact("li", "李" * 400)
    svc.add_room(ROOM, "镇党政办\r\n工作群\x7f", "wang", ["wang", "li", "bot"])
    await svc.start()
    yield svc
    await svc.stop()
    compat.reset_wechaty_caches()


async def test_names_topics_and_text_are_cleaned_and_times_bounded(
    service: PuppetService, tmp_path: Path
) -> None:
    """Control characters go, names are cut to their column, a far-future time becomes arrival."""
    assert service.endpoint is not None
    adapter = WeChatAdapter(service.endpoint, TOKEN, cache_dir=tmp_path, reconnect_delay=0.1)
    recorder = Recorder()
    task = await start_adapter(adapter, recorder)
    try:
        future = datetime.now(UTC) + timedelta(days=3650)
        await service.post_room_message(ROOM, "wang", "请\x00报送\x08台账", at=future)
        await service.post_room_message(ROOM, "li", "收到")
        first, second = (
            await recorder.wait_for(GroupMessage),
            await recorder.wait_for(GroupMessage, count=2),
        )
        info = await adapter.group_info(ROOM)
    finally:
        await finish_adapter(adapter, task)
    assert ("王主任", "请报送台账", "镇党政办\n工作群") == (
        first.sender_name,
        first.text,
        first.group_name,
    )
    assert abs(first.at - datetime.now(UTC)) < timedelta(minutes=1)
    assert 128 == len(second.sender_name)
    assert "镇党政办\n工作群" == info.name
    assert {"王主任", "李" * 127 + "…"} == {m.name for m in info.members if m.user_id != "bot"}


async def test_stop_hands_over_every_queued_event_even_when_the_bot_is_slow(
    service: PuppetService, tmp_path: Path
) -> None:
    """Events received before stop() are all emitted, however long the sink takes with them."""
    assert service.endpoint is not None
    adapter = WeChatAdapter(service.endpoint, TOKEN, cache_dir=tmp_path, reconnect_delay=0.1)
    delivered: list[str] = []
    logged_in = asyncio.Event()

    async def slow(event: Event) -> None:
        if isinstance(event, Connected):
            logged_in.set()
        if isinstance(event, GroupMessage):
            await asyncio.sleep(0.3)  # a bot busy writing: 20 events take about six seconds
            delivered.append(event.text)

    task = asyncio.create_task(adapter.run(slow))
    await asyncio.wait_for(logged_in.wait(), 10)
    for i in range(20):
        await service.post_room_message(ROOM, "li", f"第{i}条")
    async with asyncio.timeout(10):
        while adapter.queued < 19:  # all received; the first is being handled
            await asyncio.sleep(0.01)
    await adapter.stop()
    await asyncio.wait_for(task, 30)
    assert [f"第{i}条" for i in range(20)] == delivered
