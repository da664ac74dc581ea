"""OneBot adapter fixtures: an adapter on a loopback port, a simulated NapCat, spec-shaped frames.

Registered for every test module through ``pytest_plugins`` in conftest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from bot.adapters.onebot import OneBotAdapter
from bot.simulator.onebot_peer import SimulatedOneBot
from tests.recording import Recorder

TOKEN = "kSLuTF2GC2Q4q4ugm3"
SELF_ID = 10001000
GROUP = 123456
HEADERS = {"X-Self-ID": str(SELF_ID), "X-Client-Role": "Universal"}


Started = tuple[OneBotAdapter, Recorder, str]
Starter = Callable[..., Awaitable[Started]]


@pytest.fixture
async def start_adapter() -> AsyncIterator[Starter]:
    running: list[tuple[OneBotAdapter, asyncio.Task[None]]] = []

    async def start(**kwargs: Any) -> Started:
        options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "access_token": TOKEN}
        adapter = OneBotAdapter(**(options | kwargs))
        recorder = Recorder()
        task = asyncio.create_task(adapter.run(recorder))
        await adapter.wait_ready()
        running.append((adapter, task))
        return adapter, recorder, f"ws://127.0.0.1:{adapter.bound_port}/onebot/v11/ws"

    yield start
    for adapter, task in running:
        await adapter.stop()
        await asyncio.wait_for(task, 5)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedOneBot]:
    peer = SimulatedOneBot(SELF_ID, "减负助手")
    peer.add_group(
        GROUP,
        "镇党政办工作群",
        [
            (2001, "王建国", "王主任-党政办", "owner"),
            (2002, "李四", "", "admin"),
            (2003, "小赵", "", "member"),
        ],
    )
    yield peer
    await peer.disconnect()


async def raw_client(url: str, **headers: str) -> ClientConnection:
    return await connect(url, additional_headers=HEADERS | headers, proxy=None)


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def group_frame(**overrides: Any) -> dict[str, Any]:
    """A group message event shaped like the OneBot v11 spec's field table."""
    frame: dict[str, Any] = {
        "time": 1700000000,
        "self_id": SELF_ID,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": 42,
        "group_id": GROUP,
        "user_id": 2002,
        "anonymous": None,
        "message": [{"type": "text", "data": {"text": "请今晚前报送材料"}}],
        "raw_message": "请今晚前报送材料",
        "font": 0,
        "sender": {"user_id": 2002, "nickname": "李四", "card": "", "role": "admin"},
    }
    return frame | overrides
