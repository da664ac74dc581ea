"""WeChatAdapter on the real python-wechaty client against the loopback PuppetService over gRPC."""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.wechat import compat
from bot.adapters.wechat.adapter import WeChatAdapter
from bot.adapters.wechat.payloads import (
    detect_mentions,
    message_type_name,
    payload_time,
    visible_text,
)
from bot.events import (
    AdapterError,
    Connected,
    Disconnected,
    Event,
    GroupInvitation,
    GroupMessage,
    MemberJoined,
    MemberLeft,
    PrivateMessage,
)
from bot.simulator.puppet_service import PuppetService, SimulatorError
from tests.wechat_fixtures import Recorder, finish_adapter, start_adapter

# The Node gateway's own test module owns its process driver and the `node` fixture
# (which installs gateway/node_modules); reuse them rather than copy them, but keep
# this module collectable if that one changes.
try:
    from test_gateway_node import TOKEN as GATEWAY_TOKEN
    from test_gateway_node import Gateway, node
except ImportError as _gateway_import_error:
    _GATEWAY_MISSING = str(_gateway_import_error)

    @pytest.fixture
    def node() -> str:
        pytest.fail(
            f"tests/test_gateway_node.py no longer provides Gateway/node: {_GATEWAY_MISSING}"
        )


TOKEN = "puppet-token-7f3a9c"  # distinctive, so a leak into logs is easy to spot
ROOM = "20001@chatroom"
OTHER_ROOM = "20002@chatroom"
CST = timezone(timedelta(hours=8))


@pytest.fixture(autouse=True)
def _fresh_wechaty_state() -> None:
    """python-wechaty keeps Room/Contact pools and seen message ids process-wide."""
    compat.reset_wechaty_caches()


@pytest.fixture
async def service() -> AsyncIterator[PuppetService]:
    svc = PuppetService(token=TOKEN, self_id="bot", self_name="减负助手")
    for contact_id, name in [
        ("wang", "王主任"),
        ("li", "李干事"),
        ("zhao", "赵书记"),
        ("qian", "钱村长"),
    ]:
        svc.add_contact(contact_id, name)
    svc.add_room(ROOM, "镇党政办工作群", "wang", ["wang", "li", "zhao", "bot"])
    svc.add_room(OTHER_ROOM, "防汛专项群", "zhao", ["zhao", "qian"])
    await svc.start()
    yield svc
    await svc.stop()


@pytest.fixture
async def live(
    service: PuppetService, tmp_path: Path
) -> AsyncIterator[tuple[WeChatAdapter, Recorder]]:
    assert service.endpoint is not None
    adapter = WeChatAdapter(service.endpoint, TOKEN, cache_dir=tmp_path, reconnect_delay=0.1)
    recorder = Recorder()
    task = await start_adapter(adapter, recorder)
    yield adapter, recorder
    await finish_adapter(adapter, task)


async def test_login_emits_connected_with_bot_identity(
    live: tuple[WeChatAdapter, Recorder],
) -> None:
    """Logging in through the puppet service emits Connected with the bot's id and name."""
    _, recorder = live
    assert [Connected("wechat", "bot", "减负助手")] == recorder.of(Connected)


async def test_list_groups_gives_rooms_members_and_owner(
    live: tuple[WeChatAdapter, Recorder],
) -> None:
    """Only rooms the bot is in are listed; the room owner has role owner, others member."""
    adapter, _ = live
    groups = await adapter.list_groups()
    assert [ROOM] == [g.group_id for g in groups]
    group = groups[0]
    assert ("镇党政办工作群", "wang") == (group.name, group.owner_id)
    roles = {m.user_id: (m.name, m.role) for m in group.members}
    assert {
        "wang": ("王主任", "owner"),
        "li": ("李干事", "member"),
        "zhao": ("赵书记", "member"),
        "bot": ("减负助手", "member"),
    } == roles


@pytest.mark.parametrize(
    ("mention_ids", "mention_all", "expected_mentions", "expected_all"),
    [
        ((), False, (), False),
        (("li",), False, ("li",), False),
        (("li", "zhao"), True, ("li", "zhao"), True),
        ((), True, (), True),
    ],
)
async def test_room_message_becomes_group_message(
    live: tuple[WeChatAdapter, Recorder],
    service: PuppetService,
    mention_ids: tuple[str, ...],
    mention_all: bool,
    expected_mentions: tuple[str, ...],
    expected_all: bool,
) -> None:
    """A room message carries room, sender, UTC time from the payload and its mentions."""
    _, recorder = live
    sent_at = datetime(2026, 3, 2, 22, 47, 5, 250000, tzinfo=CST)
    message_id = await service.post_room_message(
        ROOM, "wang", "今晚前报送台账", mention_ids=mention_ids, mention_all=mention_all, at=sent_at
    )
    msg = await recorder.wait_for(GroupMessage)
    assert message_id == msg.message_id
    assert (ROOM, "镇党政办工作群", "wang", "王主任", "owner") == (
        msg.group_id,
        msg.group_name,
        msg.sender_id,
        msg.sender_name,
        msg.sender_role,
    )
    assert datetime(2026, 3, 2, 14, 47, 5, 250000, tzinfo=UTC) == msg.at
    assert UTC == msg.at.tzinfo
    assert "text" == msg.msg_type
    assert msg.text.endswith("今晚前报送台账")
    assert (expected_mentions, expected_all) == (msg.mentions, msg.mention_all)


async def test_group_nickname_is_used_in_the_room(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """A member's 群昵称 names them in that room's messages and member list."""
    adapter, recorder = live
    service.set_room_alias(ROOM, "li", "李干事-党政办")
    await service.post_room_message(ROOM, "li", "收到")
    assert "李干事-党政办" == (await recorder.wait_for(GroupMessage)).sender_name
    members = {m.user_id: m.name for m in (await adapter.group_info(ROOM)).members}
    assert ("李干事-党政办", "王主任") == (members["li"], members["wang"])


async def test_mention_all_written_only_in_text_is_detected(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """Some puppets leave mentionIdList empty for @所有人; the text form still counts."""
    _, recorder = live
    await service.post_room_message(ROOM, "li", "@所有人\u2005明早8点前上报")
    msg = await recorder.wait_for(GroupMessage)
    assert ((), True) == (msg.mentions, msg.mention_all)


@pytest.mark.parametrize(
    ("mention_ids", "text", "expected"),
    [
        ([], "请大家看一下", ((), False)),
        (["notify@all"], "@所有人\u2005请回复收到", ((), True)),
        (["announcement@all"], "群公告", ((), True)),
        ([], "@所有人 请回复", ((), True)),
        ([], "@全体成员", ((), True)),
        ([], "@所有人员名单见附件", ((), False)),
        (["a", "a", "b"], "@甲 @乙 看下", (("a", "b"), False)),
        (["a", "notify@all"], "x", (("a",), True)),
    ],
)
def test_detect_mentions(mention_ids: list[str], text: str, expected: Any) -> None:
    """Specific mentions are de-duplicated; @所有人 is found in the list or in the text."""
    assert expected == detect_mentions(mention_ids, text)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (1772462825250, datetime(2026, 3, 2, 14, 47, 5, 250000, tzinfo=UTC)),
        (1772462825, datetime(2026, 3, 2, 14, 47, 5, tzinfo=UTC)),
    ],
)
def test_payload_time_reads_milliseconds_and_seconds(timestamp: int, expected: datetime) -> None:
    """Puppet timestamps in epoch milliseconds or seconds both become aware UTC datetimes."""
    assert expected == payload_time(timestamp)


@pytest.mark.parametrize(
    ("ts_value", "expected"),
    [(7, "text"), (6, "image"), (1, "file"), (10, "group_note"), (16, "post"), (99, "unknown")],
)
def test_message_type_name_uses_typescript_values(ts_value: int, expected: str) -> None:
    """Message types are read as wechaty-puppet's TypeScript enum values."""
    assert expected == message_type_name(ts_value)


@pytest.mark.parametrize(
    ("msg_type", "text", "filename", "expected"),
    [
        ("text", "请报送", "", "请报送"),
        ("file", "<xml/>", "报表.xlsx", "报表.xlsx"),
        ("image", "<msg><img/></msg>", "", ""),
        ("group_note", "#接龙 签到", "", "#接龙 签到"),
    ],
)
def test_visible_text_keeps_text_and_file_names(
    msg_type: str, text: str, filename: str, expected: str
) -> None:
    """Text-like messages keep their text, files their name, media nothing."""
    assert expected == visible_text(msg_type, text, filename)


async def test_non_text_room_message_keeps_type(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """A file posted in a room arrives with msg_type "file" and the file name as text."""
    _, recorder = live
    await service.post_room_message(
        ROOM, "wang", "<appmsg/>", message_type=1, filename="统计表.xls"
    )
    msg = await recorder.wait_for(GroupMessage)
    assert ("file", "统计表.xls") == (msg.msg_type, msg.text)


async def test_own_messages_are_not_reported_as_group_messages(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """The puppet echoes the bot's own sends; those never become GroupMessage events."""
    adapter, recorder = live
    await adapter.send_group_text(ROOM, "本周减负周报已生成")
    await service.post_room_message(ROOM, "li", "收到")
    msg = await recorder.wait_for(GroupMessage)
    assert ["li"] == [m.sender_id for m in recorder.of(GroupMessage)]
    assert "收到" == msg.text


async def test_private_text_becomes_private_message(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """A 1:1 text to the bot is a PrivateMessage, not a GroupMessage."""
    _, recorder = live
    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    message_id = await service.post_private_message("li", "我的负担", at=at)
    msg = await recorder.wait_for(PrivateMessage)
    assert PrivateMessage("wechat", message_id, "li", "李干事", at, "我的负担") == msg
    assert [] == recorder.of(GroupMessage)


async def test_member_join_and_leave_emit_one_event_per_member(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """room-join and room-leave become one MemberJoined/MemberLeft per member, with operator."""
    _, recorder = live
    at = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    await service.member_join(ROOM, ["qian"], "wang", at=at)
    joined = await recorder.wait_for(MemberJoined)
    assert MemberJoined("wechat", ROOM, "qian", "钱村长", at, "wang") == joined
    await service.member_leave(ROOM, ["qian", "li"], "wang", at=at)
    await recorder.wait_for(MemberLeft, count=2)
    assert [
        MemberLeft("wechat", ROOM, "qian", at, "wang", kicked=True),
        MemberLeft("wechat", ROOM, "li", at, "wang", kicked=True),
    ] == recorder.of(MemberLeft)


async def test_invitation_is_reported_and_accepted(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """An invitation arrives as GroupInvitation; accepting it puts the bot in the room."""
    adapter, recorder = live
    invitation_id = await service.invite_bot(OTHER_ROOM, "zhao")
    invitation = await recorder.wait_for(GroupInvitation)
    assert (invitation_id, "zhao", "防汛专项群") == (
        invitation.invitation_id,
        invitation.inviter_id,
        invitation.group_name,
    )
    await adapter.accept_invitation(invitation_id)
    joined = await recorder.wait_for(MemberJoined)
    assert (OTHER_ROOM, "bot", "zhao") == (joined.group_id, joined.user_id, joined.operator_id)
    assert {invitation_id} == service.accepted_invitations
    assert {ROOM, OTHER_ROOM} == {g.group_id for g in await adapter.list_groups()}


async def test_send_text_reaches_room_and_contact(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """send_group_text and send_private_text arrive at the puppet service as MessageSendText."""
    adapter, _ = live
    await adapter.send_group_text(ROOM, "本群上周非工作时间消息 12 条")
    await adapter.send_private_text("li", "您本周被@了 3 次")
    assert [(ROOM, True, "本群上周非工作时间消息 12 条"), ("li", False, "您本周被@了 3 次")] == [
        (s.conversation_id, s.is_room, s.text) for s in service.sent
    ]


async def test_leave_group_quits_the_room(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """leave_group makes the bot quit, and the room-leave of the bot itself is reported."""
    adapter, recorder = live
    await adapter.leave_group(ROOM)
    left = await recorder.wait_for(MemberLeft)
    assert {ROOM} == service.left_rooms
    assert ("bot", False) == (left.user_id, left.kicked)


async def test_messages_arrive_in_the_order_posted(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """A burst of 收到 replies reaches the sink in the order the service sent it."""
    _, recorder = live
    senders = ["li", "zhao", "wang"] * 10
    for i, sender in enumerate(senders):
        await service.post_room_message(ROOM, sender, f"收到{i}")
    await recorder.wait_for(GroupMessage, count=len(senders))
    assert [f"收到{i}" for i in range(len(senders))] == [m.text for m in recorder.of(GroupMessage)]


async def test_topic_change_renames_the_group(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """After room-topic, messages carry the new group name."""
    _, recorder = live
    await service.post_room_message(ROOM, "li", "改名前")
    await recorder.wait_for(GroupMessage)  # names are read when a message is handled
    await service.change_topic(ROOM, "镇党政办工作群（新）", "wang")
    await service.post_room_message(ROOM, "li", "改名后")
    await recorder.wait_for(GroupMessage, count=2)
    assert ["镇党政办工作群", "镇党政办工作群（新）"] == [
        m.group_name for m in recorder.of(GroupMessage)
    ]


@pytest.mark.parametrize(
    ("action", "target"),
    [
        (lambda a: a.send_group_text("nosuch@chatroom", "你好"), "nosuch@chatroom"),
        (lambda a: a.send_private_text("nobody", "你好"), "nobody"),
        (lambda a: a.group_info("nosuch@chatroom"), "nosuch@chatroom"),
        (lambda a: a.leave_group("nosuch@chatroom"), "nosuch@chatroom"),
        (lambda a: a.accept_invitation("inv-404"), "inv-404"),
    ],
    ids=["send_group_text", "send_private_text", "group_info", "leave_group", "accept"],
)
async def test_failed_platform_calls_raise_adapter_error(
    live: tuple[WeChatAdapter, Recorder],
    action: Callable[[WeChatAdapter], Any],
    target: str,
) -> None:
    """Calls the service rejects surface as AdapterError naming the target."""
    adapter, _ = live
    with pytest.raises(AdapterError, match=f"WeChat .*{target} failed"):
        await action(adapter)


async def test_duplicate_deliveries_are_reported_once(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """Some puppets deliver a message event twice; the adapter reports it once."""
    _, recorder = live
    first = await service.post_room_message(ROOM, "li", "收到")
    await service.announce_message(first)
    await service.post_room_message(ROOM, "zhao", "好的")
    await recorder.wait_for(GroupMessage, lambda m: m.text == "好的")
    assert ["收到", "好的"] == [m.text for m in recorder.of(GroupMessage)]


async def test_event_that_cannot_be_handled_is_logged_and_skipped(
    live: tuple[WeChatAdapter, Recorder],
    service: PuppetService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message whose payload the service cannot give is logged with a traceback; the
    next message still arrives."""
    _, recorder = live
    with caplog.at_level(logging.ERROR, logger="bot.adapters.wechat.adapter"):
        await service.announce_message("msg-that-was-never-stored")
        await service.post_room_message(ROOM, "li", "下一条")
        assert "下一条" == (await recorder.wait_for(GroupMessage)).text
    [failure] = [r for r in caplog.records if "could not handle" in r.getMessage()]
    assert failure.exc_info is not None


async def test_logout_and_login_on_an_open_stream(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """An account logout is a Disconnected; logging in again is a new Connected."""
    adapter, recorder = live
    await service.logout()
    lost = await recorder.wait_for(Disconnected)
    assert "logged out" in lost.reason
    with pytest.raises(AdapterError, match="not connected"):
        await adapter.send_group_text(ROOM, "hello")
    await service.login()
    await recorder.wait_for(Connected, count=2)
    await adapter.send_group_text(ROOM, "重新登录后")
    assert "重新登录后" == service.sent[-1].text


async def test_qr_login_request_is_reported_once_without_the_code(
    live: tuple[WeChatAdapter, Recorder],
    service: PuppetService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refreshing QR codes give one warning, and the login code itself is not logged."""
    _, recorder = live
    with caplog.at_level(logging.WARNING, logger="bot.adapters.wechat.adapter"):
        await service.logout()
        for n in range(3):
            await service.request_scan(f"https://login.weixin.qq.com/l/secret{n}")
        await service.login()
        await recorder.wait_for(Connected, count=2)
    scans = [r for r in caplog.records if "QR-code" in r.getMessage()]
    assert 1 == len(scans)
    assert "secret" not in caplog.text


async def test_stream_drop_reconnects_within_seconds(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """A dropped event stream gives Disconnected, then a prompt reconnect, and messages flow."""
    _, recorder = live
    loop = asyncio.get_running_loop()
    dropped_at = loop.time()
    await service.drop_stream()
    await recorder.wait_for(Disconnected)
    await recorder.wait_for(Connected, count=2)
    assert loop.time() - dropped_at < 5.0
    await service.post_room_message(ROOM, "zhao", "恢复后的消息")
    msg = await recorder.wait_for(GroupMessage)
    assert "恢复后的消息" == msg.text


async def test_stop_rpc_only_on_connect_and_shutdown(service: PuppetService) -> None:
    """Stop (a logout for some real puppets) is not sent after a dropped stream."""
    assert service.endpoint is not None
    recorder = Recorder()
    adapter = WeChatAdapter(service.endpoint, TOKEN, reconnect_delay=0.1)
    task = await start_adapter(adapter, recorder)
    assert 1 == service.stop_calls  # python-wechaty's start() sends Stop, then Start
    await service.drop_stream()
    await recorder.wait_for(Connected, count=2)
    assert 2 == service.stop_calls
    await finish_adapter(adapter, task)
    assert 3 == service.stop_calls


async def test_hard_connection_loss_reconnects(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """Closing the TCP connection under the client is also a prompt Disconnected + reconnect."""
    _, recorder = live
    await service.drop_stream(hard=True)
    lost = await recorder.wait_for(Disconnected)
    assert "Connection lost" in lost.reason
    await recorder.wait_for(Connected, count=2)
    await service.post_room_message(ROOM, "li", "断线重连后")
    assert "断线重连后" == (await recorder.wait_for(GroupMessage)).text


async def test_unresponsive_service_is_detected_by_the_probe(
    service: PuppetService, tmp_path: Path
) -> None:
    """A service that stops answering (half-open link) is noticed by the Ding probe."""
    assert service.endpoint is not None
    recorder = Recorder()
    adapter = WeChatAdapter(
        service.endpoint,
        TOKEN,
        cache_dir=tmp_path,
        reconnect_delay=0.1,
        probe_interval=0.2,
        probe_timeout=0.3,
    )
    task = await start_adapter(adapter, recorder)
    service.stall()
    lost = await recorder.wait_for(Disconnected)
    assert "stopped answering" in lost.reason
    service.resume()
    await recorder.wait_for(Connected, count=2, timeout=8.0)
    await service.post_room_message(ROOM, "li", "恢复响应")
    assert "恢复响应" == (await recorder.wait_for(GroupMessage)).text
    await finish_adapter(adapter, task)


async def test_service_restart_is_survived(
    live: tuple[WeChatAdapter, Recorder], service: PuppetService
) -> None:
    """When the puppet service goes away and comes back on its port, the adapter reconnects."""
    _, recorder = live
    assert service.endpoint is not None
    port = int(service.endpoint.rsplit(":", 1)[1])
    await service.stop()
    await recorder.wait_for(Disconnected)
    await asyncio.sleep(0.3)  # a few failed attempts while the service is down
    await service.start(port=port)
    await recorder.wait_for(Connected, count=2)
    await service.post_room_message(ROOM, "li", "服务重启后")
    assert "服务重启后" == (await recorder.wait_for(GroupMessage)).text


async def test_wrong_token_fails_cleanly(service: PuppetService, tmp_path: Path) -> None:
    """A token the service rejects makes run() raise AdapterError instead of retrying forever."""
    assert service.endpoint is not None
    adapter = WeChatAdapter(service.endpoint, "not-the-token", cache_dir=tmp_path)
    recorder = Recorder()
    with pytest.raises(AdapterError, match="拒绝了令牌"):
        await asyncio.wait_for(adapter.run(recorder), 5.0)
    assert [] == recorder.events


async def test_stop_right_after_start_returns_promptly(service: PuppetService) -> None:
    """stop() racing the first connection still ends run() at once."""
    assert service.endpoint is not None
    adapter = WeChatAdapter(service.endpoint, TOKEN)
    task = asyncio.create_task(adapter.run(Recorder()))
    await asyncio.sleep(0)
    await finish_adapter(adapter, task)


async def test_unreachable_service_is_retried_until_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With nothing listening, run() keeps retrying with a warning and emits nothing."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    recorder = Recorder()
    adapter = WeChatAdapter(f"127.0.0.1:{port}", TOKEN, cache_dir=tmp_path, reconnect_delay=0.05)
    with caplog.at_level(logging.WARNING, logger="bot.adapters.wechat.adapter"):
        task = asyncio.create_task(adapter.run(recorder))
        await asyncio.sleep(0.6)
        await finish_adapter(adapter, task)
    retries = [r for r in caplog.records if "cannot reach" in r.getMessage()]
    assert len(retries) >= 2
    assert [] == recorder.events


async def test_sending_while_disconnected_raises_adapter_error(service: PuppetService) -> None:
    """Sending before the adapter is connected is an AdapterError, not a hang."""
    assert service.endpoint is not None
    adapter = WeChatAdapter(service.endpoint, TOKEN)
    with pytest.raises(AdapterError, match="not connected"):
        await adapter.send_group_text(ROOM, "hello")


async def test_failing_sink_is_logged_and_recording_continues(
    service: PuppetService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in the sink is logged with a traceback and later events still arrive."""
    assert service.endpoint is not None
    recorder = Recorder()

    async def flaky(event: Event) -> None:
        if isinstance(event, GroupMessage) and event.text == "boom":
            raise RuntimeError("sink broke")
        await recorder(event)

    adapter = WeChatAdapter(service.endpoint, TOKEN, cache_dir=tmp_path, reconnect_delay=0.1)
    task = asyncio.create_task(adapter.run(flaky))
    await recorder.wait_for(Connected)
    with caplog.at_level(logging.ERROR, logger="bot.adapters.wechat.adapter"):
        await service.post_room_message(ROOM, "li", "boom")
        await service.post_room_message(ROOM, "li", "after")
        assert "after" == (await recorder.wait_for(GroupMessage)).text
    await finish_adapter(adapter, task)
    failures = [r for r in caplog.records if r.exc_info and "sink failed" in r.getMessage()]
    assert 1 == len(failures)


async def test_token_never_reaches_logs(
    service: PuppetService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Neither our logs nor python-wechaty's own stderr handlers ever show the token."""
    assert service.endpoint is not None
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", TOKEN)
    for name in ("PuppetService", "Wechaty"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    adapter = WeChatAdapter(service.endpoint, TOKEN, cache_dir=tmp_path, reconnect_delay=0.1)
    task = await start_adapter(adapter, recorder)
    await service.drop_stream()
    await recorder.wait_for(Connected, count=2)
    await finish_adapter(adapter, task)
    out, err = capfd.readouterr()
    assert TOKEN not in caplog.text + out + err
    assert TOKEN not in repr(adapter)


async def test_simulator_binds_only_to_loopback() -> None:
    """The simulated puppet service refuses to listen on a non-loopback address."""
    with pytest.raises(SimulatorError, match="loopback"):
        await PuppetService(token=TOKEN).start(host="0.0.0.0")


def test_served_routes_are_routes_the_client_calls() -> None:
    """Every RPC the simulator serves is one the wechaty-grpc client stub actually calls."""
    from wechaty_grpc.wechaty import PuppetStub

    stub_source = inspect.getsource(PuppetStub)
    served = PuppetService(token=TOKEN).__mapping__()
    assert [] == [path for path in served if f'"{path}"' not in stub_source]


@pytest.mark.node
async def test_adapter_against_the_node_puppet_service(node: str, tmp_path: Path) -> None:
    """Against the upstream Node PuppetServer + PuppetMock (an independent peer), the adapter
    sees login, rooms, messages, mentions, joins, leaves and topic changes, and can send."""
    gateway = await asyncio.to_thread(Gateway, node, tmp_path / "gateway.log")
    try:
        for contact_id, name in [
            ("wxid_bot", "减负助手"),
            ("wxid_chief", "王主任"),
            ("wxid_clerk", "李四"),
            ("wxid_new", "新同志"),
        ]:
            gateway.command("contact", id=contact_id, name=name)
        room = gateway.command(
            "room",
            id="30001@chatroom",
            topic="城关镇工作群",
            members=["wxid_bot", "wxid_chief", "wxid_clerk"],
            owner="wxid_chief",
        )["id"]
        gateway.command("login", id="wxid_bot")
        adapter = WeChatAdapter(
            f"127.0.0.1:{gateway.port}", GATEWAY_TOKEN, cache_dir=tmp_path, reconnect_delay=0.2
        )
        recorder = Recorder()
        task = asyncio.create_task(adapter.run(recorder))
        assert Connected("wechat", "wxid_bot", "减负助手") == await recorder.wait_for(
            Connected, timeout=20
        )
        [group] = await adapter.list_groups()
        assert {"wxid_chief": "owner", "wxid_clerk": "member", "wxid_bot": "member"} == {
            m.user_id: m.role for m in group.members
        }

        gateway.command(
            "say",
            **{"from": "wxid_chief"},
            room=room,
            text="@李四\u2005今晚8点前报送台账",
            mentions=["wxid_clerk"],
            timestamp=1_772_462_825_000,
        )
        gateway.command("say", **{"from": "wxid_chief"}, room=room, text="@所有人 明早开会")
        gateway.command("say", **{"from": "wxid_clerk"}, to="wxid_bot", text="我的负担")
        first = await recorder.wait_for(GroupMessage)
        assert (room, "wxid_chief", "王主任", "owner", ("wxid_clerk",), False) == (
            first.group_id,
            first.sender_id,
            first.sender_name,
            first.sender_role,
            first.mentions,
            first.mention_all,
        )
        assert datetime(2026, 3, 2, 14, 47, 5, tzinfo=UTC) == first.at
        everyone = await recorder.wait_for(GroupMessage, count=2)
        assert ((), True) == (everyone.mentions, everyone.mention_all)
        assert "我的负担" == (await recorder.wait_for(PrivateMessage)).text

        gateway.command("join", room=room, members=["wxid_new"], by="wxid_chief")
        joined = await recorder.wait_for(MemberJoined)
        assert ("wxid_new", "新同志", "wxid_chief") == (
            joined.user_id,
            joined.name,
            joined.operator_id,
        )
        gateway.command("leave", room=room, members=["wxid_new"], by="wxid_chief")
        assert "wxid_new" == (await recorder.wait_for(MemberLeft)).user_id
        gateway.command("topic", room=room, topic="城关镇防汛群", by="wxid_chief")
        gateway.command("say", **{"from": "wxid_clerk"}, room=room, text="收到")
        renamed = await recorder.wait_for(GroupMessage, count=3)
        assert ("收到", "城关镇防汛群") == (renamed.text, renamed.group_name)

        await adapter.send_group_text(room, "本周工作群负担周报已生成")
        await adapter.send_private_text("wxid_clerk", "您本周被@了 3 次")
        for target, text in [
            ("roomId", "本周工作群负担周报已生成"),
            ("listenerId", "您本周被@了 3 次"),
        ]:
            echoed = await asyncio.to_thread(
                gateway.wait_for,
                lambda e, text=text: "message" == e["event"] and text == e["text"],
            )
            assert ("wxid_bot", room if target == "roomId" else "wxid_clerk") == (
                echoed["talkerId"],
                echoed[target],
            )
        assert 3 == len(recorder.of(GroupMessage))  # the bot's own sends are not reported
        await finish_adapter(adapter, task)
    finally:
        await asyncio.to_thread(gateway.close)
    assert GATEWAY_TOKEN not in gateway.log_path.read_text(encoding="utf-8")
