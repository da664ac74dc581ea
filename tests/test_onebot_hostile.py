"""Hostile and broken OneBot input at the adapter edge: strings, nesting, times, ids, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.onebot import OneBotAdapter
from bot.events import Disconnected, GroupMessage
from bot.simulator.onebot_peer import SimulatedOneBot
from tests.onebot_fixtures import GROUP, TOKEN, Starter, auth, group_frame, raw_client


async def test_strings_off_the_wire_are_cleaned_once_at_the_edge(start_adapter: Starter) -> None:
    """A lone surrogate, control characters and an endless name never reach the bot."""
    _adapter, recorder, url = await start_adapter()
    frame = group_frame(
        message=[{"type": "text", "data": {"text": "请\x00今晚\x07前报送\r\n材料"}}],
        sender={"user_id": 2002, "nickname": "李四", "card": "王五\ud83d", "role": "member"},
    )
    long_name = group_frame(
        message_id=43, sender={"user_id": 2003, "nickname": "长" * 5000, "card": ""}
    )
    async with await raw_client(url, **auth()) as ws:
        await ws.send(json.dumps(frame))  # json escapes the surrogate as \\ud83d
        await ws.send(json.dumps(long_name))
        await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == "43")
    first, second = recorder.messages()
    assert ("王五\ufffd", "请今晚前报送\n材料") == (first.sender_name, first.text)
    assert 128 == len(second.sender_name)
    first.sender_name.encode("utf-8")  # storable: no lone surrogate left


async def test_group_names_and_member_cards_from_api_answers_are_cleaned(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """Names that come back from get_group_list / member lists are cleaned like events."""
    adapter, recorder, url = await start_adapter()
    sim.add_group(777, "防汛\x1b[31m专班\x85", [(2004, "赵\x00六", "", "owner")])
    await sim.connect(url, TOKEN)
    await recorder.wait_for(lambda e: type(e).__name__ == "Connected")
    info = await adapter.group_info("777")
    assert "防汛[31m专班" == info.name
    assert "赵六" == next(m.name for m in info.members if m.user_id == "2004")


async def test_deeply_nested_json_is_one_ignored_frame_not_a_closed_connection(
    start_adapter: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    """'[' * 50000 and other absurd nesting are skipped; the connection keeps recording."""
    caplog.set_level(logging.WARNING)
    _adapter, recorder, url = await start_adapter()
    nested: Any = "x"
    for _ in range(200):
        nested = [nested]
    async with await raw_client(url, **auth()) as ws:
        await ws.send("[" * 50000 + "]" * 50000)
        await ws.send('{"a":' * 50000 + "1" + "}" * 50000)
        await ws.send(json.dumps(group_frame(message_id=50, message=nested)))
        await ws.send(json.dumps(group_frame(message_id=51)))
        await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == "51")
        assert ws.close_code is None
        assert 0 == recorder.count(Disconnected)
    assert ["51"] == [m.message_id for m in recorder.messages()]
    # Three frames of one kind of problem: one rate-limited warning line.
    assert 1 == len([r for r in caplog.records if "nested" in r.getMessage()])


async def test_a_message_from_the_far_future_is_dated_on_arrival_and_catch_up_still_works(
    start_adapter: Starter, sim: SimulatedOneBot, caplog: pytest.LogCaptureFixture
) -> None:
    """One message dated +10 years neither lands in 2036 nor makes later catch-ups recover nothing."""
    caplog.set_level(logging.WARNING)
    _adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    future = await sim.post_group_message(
        GROUP, 2001, "时间错乱", at=datetime.now(UTC) + timedelta(days=3650)
    )
    got = await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == str(future))
    assert isinstance(got, GroupMessage)
    assert abs(got.at - datetime.now(UTC)) < timedelta(minutes=1)
    assert "receive time" in caplog.text

    await sim.disconnect()
    await recorder.wait_for(lambda e: isinstance(e, Disconnected))
    missed = [
        await sim.post_group_message(GROUP, 2002, f"断线期间{i}", deliver=False) for i in range(10)
    ]
    await sim.connect(url, TOKEN)
    await recorder.wait_for(
        lambda e: isinstance(e, GroupMessage) and e.message_id == str(missed[-1])
    )
    assert {str(m) for m in missed} <= {m.message_id for m in recorder.messages()}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("group_id", "--5"),
        ("group_id", "１２３"),
        ("group_id", -5),
        ("group_id", 0),
        ("group_id", 10**30),
        ("group_id", 1.5),
        ("user_id", "１２３"),
        ("user_id", "+7"),
        ("message_id", "１２３"),
        ("message_id", 0),
        ("self_id", "--5"),
    ],
)
async def test_ids_that_are_not_qq_numbers_are_rejected_at_the_edge(
    start_adapter: Starter, caplog: pytest.LogCaptureFixture, field: str, value: object
) -> None:
    """Full-width digits, signs, zero, negatives and huge numbers are not QQ ids."""
    caplog.set_level(logging.WARNING)
    _adapter, recorder, url = await start_adapter()
    bad = group_frame(**({"message_id": 60} | {field: value}))
    if field == "user_id":
        bad["sender"] = {**bad["sender"], "user_id": value}
    async with await raw_client(url, **auth()) as ws:
        await ws.send(json.dumps(bad, ensure_ascii=False))
        if field == "self_id":
            lifecycle = {"time": 1, "self_id": value, "post_type": "meta_event"}
            lifecycle |= {"meta_event_type": "lifecycle", "sub_type": "connect"}
            await ws.send(json.dumps(lifecycle))
        await ws.send(json.dumps(group_frame(message_id=61)))
        await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == "61")
    expected = ["60", "61"] if field == "self_id" else ["61"]  # a frame's own self_id is unused
    assert expected == [m.message_id for m in recorder.messages()]
    assert f"{field} missing or not a" in caplog.text


async def test_negative_message_ids_and_full_width_mentions(start_adapter: Starter) -> None:
    """NapCat's negative message ids are ids; an @ of a full-width number is no mention."""
    _adapter, recorder, url = await start_adapter()
    frame = group_frame(
        message_id=-123456,
        message=[
            {"type": "at", "data": {"qq": "１２３"}},
            {"type": "at", "data": {"qq": "2003"}},
            {"type": "reply", "data": {"id": "--9"}},
            {"type": "text", "data": {"text": " 收到"}},
        ],
    )
    async with await raw_client(url, **auth()) as ws:
        await ws.send(json.dumps(frame, ensure_ascii=False))
        got = await recorder.wait_for(lambda e: isinstance(e, GroupMessage))
    assert isinstance(got, GroupMessage)
    assert ("-123456", ("2003",), None) == (got.message_id, got.mentions, got.reply_to)


async def test_stop_hands_every_received_frame_to_the_sink_before_returning() -> None:
    """Frames already received when stop() comes are still emitted; run() returns after."""
    adapter = OneBotAdapter(host="127.0.0.1", port=0, access_token=TOKEN)
    delivered: list[str] = []
    release = asyncio.Event()

    async def slow(event: object) -> None:
        if isinstance(event, GroupMessage):
            if not delivered:
                await release.wait()  # the bot is busy, frames pile up behind it
            delivered.append(event.message_id)

    task = asyncio.create_task(adapter.run(slow))
    await adapter.wait_ready()
    url = f"ws://127.0.0.1:{adapter.bound_port}/onebot/v11/ws"
    async with await raw_client(url, **auth()) as ws:
        for mid in range(1, 101):
            await ws.send(json.dumps(group_frame(message_id=mid)))
        await adapter.stop()
        release.set()
        await asyncio.wait_for(task, 10)
    assert [str(i) for i in range(1, 101)] == delivered
