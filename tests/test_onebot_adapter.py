"""Tests for the OneBot v11 adapter, driven by real WebSocket peers on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus

from bot.adapters.onebot import CatchUpState, OneBotAdapter
from bot.adapters.onebot.segments import (
    escape_text,
    parse_cq_string,
    parse_message,
    to_cq_string,
)
from bot.events import (
    AdapterError,
    Connected,
    Disconnected,
    Event,
    GroupInvitation,
    GroupMessage,
    Member,
    MemberJoined,
    MemberLeft,
    PrivateMessage,
)
from bot.simulator.onebot_peer import SimulatedOneBot
from tests.onebot_fixtures import (
    GROUP,
    SELF_ID,
    TOKEN,
    Starter,
    auth,
    group_frame,
    raw_client,
)
from tests.recording import Recorder


@pytest.mark.parametrize("token", ["", "   "])
def test_constructor_requires_a_token(token: str) -> None:
    """An adapter without an access token refuses to exist."""
    with pytest.raises(ValueError, match="access_token is required"):
        OneBotAdapter(access_token=token)


@pytest.mark.parametrize(
    ("suffix", "headers", "status"),
    [
        ("", {}, 401),
        ("", {"Authorization": "Bearer wrong-token"}, 403),
        ("", {"Authorization": "Basic a3NMdVRG"}, 401),
        ("?access_token=wrong-token", {}, 403),
        ("x", {"Authorization": f"Bearer {TOKEN}"}, 404),
    ],
)
async def test_bad_credentials_are_refused_before_the_websocket_opens(
    start_adapter: Starter, suffix: str, headers: dict[str, str], status: int
) -> None:
    """Missing or wrong tokens (and wrong paths) get an HTTP error and produce no events."""
    _adapter, recorder, url = await start_adapter()
    with pytest.raises(InvalidStatus) as refused:
        await raw_client(url + suffix, **headers)
    assert status == refused.value.response.status_code
    await asyncio.sleep(0.05)
    assert [] == recorder.events


async def test_token_in_query_parameter_is_accepted(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """The spec's access_token query parameter authenticates like the header."""
    _adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN, use_query=True)
    event = await recorder.wait_for(lambda e: isinstance(e, Connected))
    assert Connected("qq", str(SELF_ID), "减负助手") == event


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {
                "message": [
                    {"type": "at", "data": {"qq": "2003"}},
                    {"type": "text", "data": {"text": " 请今晚前报送材料"}},
                ],
                "raw_message": "[CQ:at,qq=2003] 请今晚前报送材料",
            },
            {"mentions": ("2003",), "text": "@2003 请今晚前报送材料", "mention_all": False},
            id="at-qq-string",
        ),
        pytest.param(
            {"message": [{"type": "at", "data": {"qq": 2003}}]},
            {"mentions": ("2003",), "mention_all": False},
            id="at-qq-number",
        ),
        pytest.param(
            {
                "message": [
                    {"type": "at", "data": {"qq": "all"}},
                    {"type": "text", "data": {"text": " 收到请回复"}},
                ]
            },
            {"mention_all": True, "mentions": (), "text": "@全体成员 收到请回复"},
            id="at-all-array",
        ),
        pytest.param(
            {"message": "[CQ:at,qq=all] 收到请回复", "raw_message": "[CQ:at,qq=all] 收到请回复"},
            {"mention_all": True, "text": "@全体成员 收到请回复"},
            id="at-all-cq-string",
        ),
        pytest.param(
            {"message": None, "raw_message": "[CQ:at,qq=2001]&#91;紧急&#93;拍照打卡"},
            {"mentions": ("2001",), "text": "@2001[紧急]拍照打卡"},
            id="raw-message-fallback",
        ),
        pytest.param(
            {
                "message": [
                    {"type": "reply", "data": {"id": "41"}},
                    {"type": "image", "data": {"file": "a.jpg", "url": "https://x/a.jpg"}},
                ]
            },
            {"msg_type": "image", "reply_to": "41", "text": "[图片]"},
            id="reply-with-image",
        ),
        pytest.param(
            {},
            {
                "sender_name": "李四",
                "sender_role": "admin",
                "message_id": "42",
                "group_id": str(GROUP),
                "sender_id": "2002",
                "at": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
                "msg_type": "text",
            },
            id="empty-card-falls-back-to-nickname",
        ),
        pytest.param(
            {
                "sender": {
                    "user_id": 2001,
                    "nickname": "王建国",
                    "card": "王主任",
                    "role": "owner",
                },
                "user_id": 2001,
            },
            {"sender_name": "王主任", "sender_role": "owner", "sender_id": "2001"},
            id="card-wins",
        ),
    ],
)
async def test_hand_written_group_frames_become_group_messages(
    start_adapter: Starter, overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Spec-shaped group message frames map to GroupMessage fields."""
    _adapter, recorder, url = await start_adapter()
    async with await raw_client(url, **auth()) as ws:
        await ws.send(json.dumps(group_frame(**overrides), ensure_ascii=False))
        event = await recorder.wait_for(lambda e: isinstance(e, GroupMessage))
    assert expected == {key: getattr(event, key) for key in expected}


async def test_malformed_frames_are_skipped_and_the_connection_survives(
    start_adapter: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage frames log warnings without the token; later valid events still arrive."""
    caplog.set_level(logging.WARNING)
    _adapter, recorder, url = await start_adapter()
    bad: list[str | bytes] = [
        "not json {",
        b"\xff\xfe\x00",
        "[1, 2, 3]",
        "42",
        json.dumps({"post_type": "message", "message_type": "group"}),
        json.dumps(group_frame(group_id="abc")),
        json.dumps(group_frame(time="yesterday")),
        json.dumps(group_frame(message=17, raw_message=None)),
        json.dumps(group_frame(message_id=True)),
        json.dumps({"post_type": "gossip"}),
        json.dumps({"post_type": "notice", "notice_type": "group_decrease", "group_id": GROUP}),
        json.dumps({"post_type": "request", "request_type": "group", "sub_type": "invite"}),
        json.dumps(group_frame(message=[{"type": "at"}, "junk", {"type": "text", "data": {}}])),
    ]
    async with await raw_client(url, **auth()) as ws:
        for frame in bad:
            await ws.send(frame)
        await ws.send(json.dumps(group_frame(message_id=77)))
        await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == "77")
    # The last malformed frame still yields a message: bad segments are dropped, not the event.
    assert ["42", "77"] == [m.message_id for m in recorder.messages()]
    # One warning per kind of problem (two frames are not JSON, two lack a usable group_id).
    assert len(bad) - 2 <= len([r for r in caplog.records if r.levelno == logging.WARNING])
    assert TOKEN not in caplog.text


async def test_a_taken_port_is_a_clear_adapter_error(start_adapter: Starter) -> None:
    """Listening on a port that is already taken raises AdapterError naming the address."""
    first, _recorder, _url = await start_adapter()
    second = OneBotAdapter(host="127.0.0.1", port=first.bound_port, access_token=TOKEN)
    with pytest.raises(AdapterError, match=f"127.0.0.1:{first.bound_port}"):
        await second.run(Recorder())


async def test_a_failing_sink_does_not_stop_later_events(
    start_adapter: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in the event sink is logged and the next event is still delivered."""
    adapter = OneBotAdapter(host="127.0.0.1", port=0, access_token=TOKEN)
    delivered: list[Event] = []

    async def flaky(event: Event) -> None:
        if isinstance(event, GroupMessage) and event.message_id == "1":
            raise RuntimeError("database is locked")
        delivered.append(event)

    task = asyncio.create_task(adapter.run(flaky))
    try:
        await adapter.wait_ready()
        url = f"ws://127.0.0.1:{adapter.bound_port}/onebot/v11/ws"
        async with await raw_client(url, **auth()) as ws:
            for mid in (1, 2):
                await ws.send(json.dumps(group_frame(message_id=mid)))
            async with asyncio.timeout(5):
                while not delivered:
                    await asyncio.sleep(0.01)
    finally:
        await adapter.stop()
        await asyncio.wait_for(task, 5)
    assert ["2"] == [e.message_id for e in delivered if isinstance(e, GroupMessage)]
    assert "event sink failed" in caplog.text


async def test_lifecycle_connects_and_heartbeats_are_ignored(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """The lifecycle connect event emits Connected with the login nickname; heartbeats nothing."""
    _adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    await sim.heartbeat()
    mid = await sim.post_group_message(GROUP, 2003, "收到")
    await recorder.wait_for(lambda e: isinstance(e, GroupMessage))
    assert [Connected("qq", str(SELF_ID), "减负助手")] == [
        e for e in recorder.events if not isinstance(e, GroupMessage)
    ]
    assert [str(mid)] == [m.message_id for m in recorder.messages()]


async def test_separate_event_and_api_connections_are_tolerated(start_adapter: Starter) -> None:
    """Events come over an Event connection; calls wait for and use a later API connection."""
    _adapter, recorder, url = await start_adapter()
    lifecycle = {
        "time": 1700000000,
        "self_id": SELF_ID,
        "post_type": "meta_event",
        "meta_event_type": "lifecycle",
        "sub_type": "connect",
    }
    async with await raw_client(url, **auth(), **{"X-Client-Role": "Event"}) as events:
        await events.send(json.dumps(lifecycle))
        await asyncio.sleep(0.05)  # the adapter now waits for an API-capable connection
        async with await raw_client(url, **auth(), **{"X-Client-Role": "API"}) as api:
            answers: list[object] = [{"user_id": SELF_ID, "nickname": "减负助手"}, []]
            for data in answers:
                request = json.loads(await asyncio.wait_for(api.recv(), 5))
                answer = {"status": "ok", "retcode": 0, "data": data, "echo": request["echo"]}
                await api.send(json.dumps(answer))
            await api.send(json.dumps(group_frame(message_id=1)))  # not an event connection
            await asyncio.sleep(0.05)
            await events.send(json.dumps(group_frame(message_id=2)))
            await recorder.wait_for(lambda e: isinstance(e, GroupMessage))
    assert Connected("qq", str(SELF_ID), "减负助手") == recorder.events[0]
    assert ["2"] == [m.message_id for m in recorder.messages()]


async def test_private_messages_are_emitted(start_adapter: Starter, sim: SimulatedOneBot) -> None:
    """A direct message becomes a PrivateMessage."""
    _adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    mid = await sim.post_private_message(2003, "小赵", "我的负担")
    event = await recorder.wait_for(lambda e: isinstance(e, PrivateMessage))
    assert isinstance(event, PrivateMessage)
    assert (str(mid), "2003", "小赵", "我的负担") == (
        event.message_id,
        event.sender_id,
        event.sender_name,
        event.text,
    )


async def test_group_list_has_members_roles_and_owner(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """list_groups and group_info combine get_group_list with member lists and roles."""
    adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    await recorder.wait_for(lambda e: isinstance(e, Connected))
    groups = await adapter.list_groups()
    assert [(str(GROUP), "镇党政办工作群", "2001")] == [
        (g.group_id, g.name, g.owner_id) for g in groups
    ]
    assert (
        Member(str(SELF_ID), "减负助手", "member"),
        Member("2001", "王主任-党政办", "owner"),
        Member("2002", "李四", "admin"),
        Member("2003", "小赵", "member"),
    ) == groups[0].members
    assert groups[0] == await adapter.group_info(str(GROUP))


async def test_send_group_text_uses_the_spec_api_frame_with_echo(start_adapter: Starter) -> None:
    """send_group_text sends {action, params, echo} and returns when the matching echo answers."""
    adapter, _recorder, url = await start_adapter()
    async with await raw_client(url, **auth()) as ws:
        sending = asyncio.create_task(adapter.send_group_text(str(GROUP), "[CQ:at,qq=all] 周报"))
        request = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert {
            "action": "send_group_msg",
            "params": {
                "group_id": GROUP,
                "message": [{"type": "text", "data": {"text": "[CQ:at,qq=all] 周报"}}],
            },
            "echo": request["echo"],
        } == request
        # An answer for someone else must not complete this call.
        await ws.send(json.dumps({"status": "ok", "retcode": 0, "data": None, "echo": "other"}))
        await asyncio.sleep(0.05)
        assert not sending.done()
        await ws.send(
            json.dumps(
                {"status": "ok", "retcode": 0, "data": {"message_id": 7}, "echo": request["echo"]}
            )
        )
        await asyncio.wait_for(sending, 5)


@pytest.mark.parametrize("answer", [True, False], ids=["failed-retcode", "timeout"])
async def test_failed_and_unanswered_calls_raise_adapter_error(
    start_adapter: Starter, answer: bool
) -> None:
    """A failed retcode or no answer raises AdapterError naming the action."""
    adapter, _recorder, url = await start_adapter(api_timeout=0.3)
    async with await raw_client(url, **auth()) as ws:
        leaving = asyncio.create_task(adapter.leave_group(str(GROUP)))
        request = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if answer:
            failure = {"status": "failed", "retcode": 1404, "data": None, "echo": request["echo"]}
            await ws.send(json.dumps(failure))
        with pytest.raises(AdapterError, match="set_group_leave"):
            await leaving


async def test_sends_are_rate_limited(start_adapter: Starter, sim: SimulatedOneBot) -> None:
    """Several sends in a burst are spaced by at least 1 / send_rate_per_second."""
    adapter, recorder, url = await start_adapter(send_rate_per_second=20)
    await sim.connect(url, TOKEN)
    await recorder.wait_for(lambda e: isinstance(e, Connected))
    started = time.monotonic()
    await asyncio.gather(*(adapter.send_group_text(str(GROUP), f"第{i}条") for i in range(4)))
    await adapter.send_private_text("2003", "私信")
    elapsed = time.monotonic() - started
    assert 4 * 0.05 <= elapsed + 0.005
    assert ["第0条", "第1条", "第2条", "第3条", "私信"] == [m.text for m in sim.sent]
    assert ["send_group_msg"] * 4 + ["send_private_msg"] == [m.action for m in sim.sent]


async def test_group_invitation_can_be_accepted(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """An invite request becomes GroupInvitation; accepting approves it by flag."""
    adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    flag = await sim.invite_bot(555, "安全生产专班", 2001)
    event = await recorder.wait_for(lambda e: isinstance(e, GroupInvitation))
    assert isinstance(event, GroupInvitation)
    assert (flag, "2001", "安全生产专班", "555") == (
        event.invitation_id,
        event.inviter_id,
        event.group_name,
        event.group_id,
    )
    await adapter.accept_invitation(event.invitation_id)
    assert ("set_group_add_request", {"flag": flag, "sub_type": "invite", "approve": True}) == (
        sim.calls[-1]
    )
    assert [flag] == sim.accepted_invitations


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("join", MemberJoined("qq", str(GROUP), "2009", "新人", datetime.min, None)),
        ("leave", MemberLeft("qq", str(GROUP), "2003", datetime.min, "2003", False)),
        ("kick", MemberLeft("qq", str(GROUP), "2003", datetime.min, "2001", True)),
        ("kick_me", MemberLeft("qq", str(GROUP), str(SELF_ID), datetime.min, "2001", True)),
    ],
)
async def test_member_notices(
    start_adapter: Starter, sim: SimulatedOneBot, action: str, expected: Event
) -> None:
    """Member notices map to MemberJoined / MemberLeft; kick_me reports the bot itself."""
    _adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    if action == "join":
        await sim.member_join(GROUP, 2009, "新人")
    elif action == "leave":
        await sim.member_leave(GROUP, 2003)
    elif action == "kick":
        await sim.member_leave(GROUP, 2003, kicked_by=2001)
    else:
        await sim.kick_bot(GROUP, 2001)
    event = await recorder.wait_for(lambda e: isinstance(e, MemberJoined | MemberLeft))
    assert isinstance(event, MemberJoined | MemberLeft)
    assert abs(event.at - datetime.now(UTC)) < timedelta(seconds=5)
    assert expected == dataclasses.replace(event, at=datetime.min)


async def test_leave_group_calls_set_group_leave(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """leave_group leaves without dismissing the group."""
    adapter, recorder, url = await start_adapter()
    await sim.connect(url, TOKEN)
    await recorder.wait_for(lambda e: isinstance(e, Connected))
    await adapter.leave_group(str(GROUP))
    assert ("set_group_leave", {"group_id": GROUP, "is_dismiss": False}) == sim.calls[-1]
    assert [GROUP] == sim.left_groups


async def test_catch_up_after_reconnect_emits_missed_messages_once(
    start_adapter: Starter, sim: SimulatedOneBot
) -> None:
    """Messages posted while disconnected arrive once after reconnecting; nothing twice."""
    _adapter, recorder, url = await start_adapter()
    old = await sim.post_group_message(GROUP, 2001, "很久以前", at=datetime.now(UTC) - timedelta(1))
    await sim.connect(url, TOKEN)
    await recorder.wait_for(lambda e: isinstance(e, Connected))
    m1 = await sim.post_group_message(GROUP, 2001, "请各村今晚前报送台账")
    await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == str(m1))

    await sim.disconnect()
    await recorder.wait_for(lambda e: isinstance(e, Disconnected))
    m2 = await sim.post_group_message(GROUP, 2002, "收到")
    m3 = await sim.post_group_message(GROUP, 2003, "收到", reply_to=m1)
    await sim.connect(url, TOKEN)
    await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == str(m3))

    # A live copy of a caught-up message, then a reconnect that replays the whole history.
    await sim.send_raw(sim.groups[GROUP].history[2])
    m4 = await sim.post_group_message(GROUP, 2001, "@全体成员 拍照打卡", at_all=True)
    await sim.disconnect()
    await sim.connect(url, TOKEN)
    m5 = await sim.post_group_message(GROUP, 2002, "好的")
    await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == str(m5))

    assert [str(m) for m in (m1, m2, m3, m4, m5)] == [m.message_id for m in recorder.messages()]
    assert str(old) not in {m.message_id for m in recorder.messages()}
    assert 3 == recorder.count(Connected)
    assert 2 == recorder.count(Disconnected)


async def test_catch_up_is_skipped_quietly_without_history_support(
    start_adapter: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    """An implementation without get_group_msg_history costs one info line; live events flow."""
    caplog.set_level(logging.INFO, logger="bot.adapters.onebot")
    peer = SimulatedOneBot(SELF_ID, supports_history=False)
    peer.add_group(GROUP, "甲群", [(2001, "王建国", "", "owner")])
    peer.add_group(GROUP + 1, "乙群", [(2001, "王建国", "", "owner")])
    _adapter, recorder, url = await start_adapter()
    await peer.connect(url, TOKEN)
    mid = await peer.post_group_message(GROUP + 1, 2001, "通知")
    await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == str(mid))
    await peer.disconnect()
    notes = [r for r in caplog.records if "get_group_msg_history" in r.getMessage()]
    assert [logging.INFO] == [r.levelno for r in notes]


async def test_forward_mode_connects_with_bearer_token_and_reconnects(
    start_adapter: Starter,
) -> None:
    """Forward mode dials the implementation with the token header and redials after a drop."""
    seen_auth: list[str | None] = []

    async def implementation(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen_auth.append(ws.request.headers.get("Authorization"))
        lifecycle = {
            "time": int(time.time()),
            "self_id": SELF_ID,
            "post_type": "meta_event",
            "meta_event_type": "lifecycle",
            "sub_type": "connect",
        }
        await ws.send(json.dumps(lifecycle))
        await ws.send(json.dumps(group_frame(message_id=len(seen_auth), time=int(time.time()))))
        async for raw in ws:
            request = json.loads(raw)
            if request["action"] == "get_group_list":
                # Answer enough for catch-up to finish; then drop the first connection.
                await ws.send(
                    json.dumps({"status": "ok", "retcode": 0, "data": [], "echo": request["echo"]})
                )
                if len(seen_auth) == 1:
                    await ws.close()
            else:
                await ws.send(
                    json.dumps(
                        {"status": "failed", "retcode": 1404, "data": None, "echo": request["echo"]}
                    )
                )

    async with serve(implementation, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        adapter = OneBotAdapter(
            mode="forward", forward_url=f"ws://127.0.0.1:{port}", access_token=TOKEN
        )
        adapter.transport.reconnect_delays = (0.05,)
        recorder = Recorder()
        task = asyncio.create_task(adapter.run(recorder))
        try:
            await recorder.wait_for(lambda e: isinstance(e, GroupMessage) and e.message_id == "2")
        finally:
            await adapter.stop()
            await asyncio.wait_for(task, 5)
    assert [f"Bearer {TOKEN}"] * 2 == seen_auth[:2]
    assert ["Connected", "GroupMessage", "Disconnected", "Connected", "GroupMessage"] == [
        type(e).__name__ for e in recorder.events
    ][:5]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("纯文本", [{"type": "text", "data": {"text": "纯文本"}}]),
        (
            "[CQ:face,id=178]看看[CQ:image,file=123.jpg]",
            [
                {"type": "face", "data": {"id": "178"}},
                {"type": "text", "data": {"text": "看看"}},
                {"type": "image", "data": {"file": "123.jpg"}},
            ],
        ),
        (
            "[CQ:share,title=震惊&#44;小伙,url=http://baidu.com/?a=1&amp;b=2]",
            [{"type": "share", "data": {"title": "震惊,小伙", "url": "http://baidu.com/?a=1&b=2"}}],
        ),
        ("[CQ:share,title=有=等号]", [{"type": "share", "data": {"title": "有=等号"}}]),
        ("- &#91;x&#93; &amp;data", [{"type": "text", "data": {"text": "- [x] &data"}}]),
        ("[CQ:shake]", [{"type": "shake", "data": {}}]),
    ],
)
def test_cq_strings_parse_like_the_spec_examples(raw: str, expected: list[dict[str, Any]]) -> None:
    """CQ-code strings split into segments with the spec's escaping rules."""
    assert expected == parse_cq_string(raw)


@given(st.text())
def test_escaped_text_survives_a_cq_round_trip(text: str) -> None:
    """Any text escaped for a CQ string parses back to itself."""
    assert text == parse_message(escape_text(text)).text


@given(st.dictionaries(st.sampled_from(["title", "url", "file"]), st.text(min_size=1)))
def test_cq_params_survive_a_round_trip(data: dict[str, str]) -> None:
    """Segment parameters with commas, brackets and ampersands survive rendering and parsing."""
    assert [{"type": "share", "data": data}] == parse_cq_string(
        to_cq_string([{"type": "share", "data": data}])
    )


def test_catch_up_state_is_bounded_and_round_trips() -> None:
    """The seen-set forgets the oldest ids past its bound, and to_dict/from_dict keep the rest."""
    state = CatchUpState(max_ids_per_group=3)
    base = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for i in range(5):
        state.mark("g", str(i), base + timedelta(minutes=i))
    restored = CatchUpState.from_dict(json.loads(json.dumps(state.to_dict())), 3)
    assert [False, False, True, True, True] == [restored.is_seen("g", str(i)) for i in range(5)]
    assert base + timedelta(minutes=4) == restored.last_seen("g")
