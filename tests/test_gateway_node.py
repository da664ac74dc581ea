"""End-to-end tests of gateway/server.mjs: Node PuppetServer + PuppetMock seen by python-wechaty."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.events import (
    Connected,
    GroupMessage,
    Member,
    MemberJoined,
    MemberLeft,
    PrivateMessage,
)
from tests.recording import Recorder

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "gateway"
TOKEN = "jianfu-gw-test-7Hq2xP"
# Written into node_modules after a successful `npm ci`; `npm ci` deletes it with the rest.
STAMP = GATEWAY / "node_modules" / ".jianfu-lock.sha256"
LOCK_INPUTS = ("package.json", "package-lock.json", ".npmrc")

GatewayEvent = dict[str, Any]
# A valid 1x1 PNG, as the digest renderer would send.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _node_tools() -> tuple[str, str]:
    """Find node and npm; skip without them, except on CI where a skip would hide a gap."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if not p)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} not found, and CI=true does not allow skipping the gateway test")
    pytest.skip(f"{missing} not found")


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in LOCK_INPUTS:
        digest.update((GATEWAY / name).read_bytes())
    return digest.hexdigest()


def _ensure_node_modules(npm: str) -> None:
    """Run `npm ci` when node_modules is missing or older than the lock file.

    An flock outside the work tree serialises concurrent test runs, which would
    otherwise delete each other's node_modules halfway through an install.
    """
    key = hashlib.sha256(str(GATEWAY).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"jianfu-gateway-npm-ci-{key}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = _lock_digest()
        if STAMP.is_file() and STAMP.read_text() == digest:
            return
        result = subprocess.run(
            [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
            cwd=GATEWAY,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in gateway/ failed:\n{result.stderr[-4000:]}")
        STAMP.write_text(digest)


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with gateway/node_modules installed from the lock file."""
    node_path, npm = _node_tools()
    _ensure_node_modules(npm)
    return node_path


class Gateway:
    """The Node gateway in mock mode, driven through its JSON lines on stdin and stdout."""

    def __init__(self, node: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        full_env = {
            **os.environ,
            "JIANFU_PUPPET": "mock",
            "JIANFU_PUPPET_TOKEN": TOKEN,
            "JIANFU_GATEWAY_PORT": "0",
        }
        full_env.pop("WECHATY_LOG", None)
        full_env.update(env or {})
        self.log_path = log_path
        self._log = log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [node, "server.mjs"],
            cwd=GATEWAY,
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
        )
        self.events: list[GatewayEvent] = []
        self._closed = False
        self._changed = threading.Condition()
        self._seq = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = int(self.wait_for(lambda e: "ready" == e["event"], timeout=30)["port"])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not line.startswith("{"):
                continue
            with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[GatewayEvent], bool], timeout: float = 10.0
    ) -> GatewayEvent:
        """Return the first event (already seen or still to come) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise AssertionError(
                        f"gateway did not report the expected event; events: {self.events}\n"
                        f"log:\n{self.log_path.read_text(encoding='utf-8')[-3000:]}"
                    )
                self._changed.wait(remaining)

    def command(self, cmd: str, **fields: Any) -> GatewayEvent:
        """Send one scenario command and return its "ok" reply."""
        assert self.proc.stdin is not None
        self._seq += 1
        seq = self._seq
        self.proc.stdin.write(json.dumps({"cmd": cmd, "seq": seq, **fields}) + "\n")
        self.proc.stdin.flush()
        reply = self.wait_for(lambda e: seq == e.get("seq"))
        assert "ok" == reply["event"], reply
        return reply

    def close(self) -> int:
        """Close stdin (the gateway then stops itself) and return its exit code."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return code


@pytest.fixture
def gateway(node: str, tmp_path: Path) -> Iterator[Gateway]:
    """A running mock-mode gateway on a free loopback port."""
    gw = Gateway(node, tmp_path / "gateway.log")
    try:
        yield gw
    finally:
        gw.close()


@dataclass(frozen=True)
class Scenario:
    """Ids of the mock world: the bot, three cadres and one work group."""

    bot: str
    chief: str
    clerk: str
    cadre: str
    room: str


@pytest.fixture
def scenario(gateway: Gateway) -> Scenario:
    """Create a work group of four (bot included) and log the bot in.

    Ids are unique per test because python-wechaty caches contacts and rooms
    process-wide.
    """
    u = uuid.uuid4().hex[:8]
    s = Scenario(f"wxid_bot_{u}", f"wxid_chief_{u}", f"wxid_clerk_{u}", f"wxid_cadre_{u}", "")
    for contact_id, name in (
        (s.bot, "减负助手"),
        (s.chief, "王主任"),
        (s.clerk, "李四"),
        (s.cadre, "张三"),
    ):
        gateway.command("contact", id=contact_id, name=name)
    room = gateway.command(
        "room",
        id=f"{u}@chatroom",
        topic="城关镇工作群",
        members=[s.bot, s.chief, s.clerk, s.cadre],
        owner=s.chief,
    )["id"]
    assert gateway.command("login", id=s.bot)["loggedIn"]
    return Scenario(s.bot, s.chief, s.clerk, s.cadre, room)


def _import_compat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """python-wechaty through the project's compat module (DOMAIN.md section 5 workarounds)."""
    # wechaty_puppet creates ./.wechaty on first import; keep it out of the work tree.
    monkeypatch.chdir(tmp_path)
    from bot.adapters.wechat import compat

    compat.use_cache_dir(tmp_path / "wechaty-cache")
    compat.reset_wechaty_caches()
    return compat


async def test_python_wechaty_client_sees_the_mock_world_and_can_send(
    gateway: Gateway, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-wechaty 0.10.7 logs in through the gateway, sees the room, members, talker,
    mentions and timestamp of a room message, and its room.say() reaches the puppet."""
    compat = _import_compat(tmp_path, monkeypatch)
    from wechaty_puppet import MessageType

    logins: asyncio.Queue[Any] = asyncio.Queue()
    messages: asyncio.Queue[Any] = asyncio.Queue()

    class Bot(compat.Wechaty):  # type: ignore[misc, name-defined]
        async def on_login(self, contact: Any) -> None:
            await logins.put(contact)

        async def on_message(self, msg: Any) -> None:
            await messages.put(msg)

    options = compat.PuppetOptions()
    options.end_point = f"127.0.0.1:{gateway.port}"
    options.token = TOKEN
    bot = Bot(compat.WechatyOptions(puppet="wechaty-puppet-service", puppet_options=options))
    runner = asyncio.create_task(bot.start())
    try:
        me = await asyncio.wait_for(logins.get(), 20)
        assert scenario.bot == me.contact_id
        assert "减负助手" == me.name

        rooms = {r.room_id: r for r in await bot.Room.find_all()}
        room = rooms[scenario.room]
        await room.ready()
        assert "城关镇工作群" == await room.topic()
        owner = await room.owner()
        assert owner is not None
        assert scenario.chief == owner.contact_id
        members = {m.contact_id: m.name for m in await room.member_list()}
        assert {
            scenario.bot: "减负助手",
            scenario.chief: "王主任",
            scenario.clerk: "李四",
            scenario.cadre: "张三",
        } == members

        # WeChat puts U+2005 after an @name; the text must arrive byte for byte.
        text = "@李四\u2005@减负助手\u2005今晚8点前报送台账，收到请回复"
        sent_at_ms = 1_763_740_800_000
        said = gateway.command(
            "say",
            **{"from": scenario.chief},
            room=scenario.room,
            text=text,
            mentions=[scenario.clerk, scenario.bot],
            timestamp=sent_at_ms,
        )
        msg = await asyncio.wait_for(messages.get(), 10)
        assert said["messageId"] == msg.message_id
        assert scenario.chief == msg.talker().contact_id
        assert scenario.room == msg.room().room_id
        assert text == msg.text()
        assert MessageType.MESSAGE_TYPE_TEXT == msg.type()
        assert sent_at_ms == msg.payload.timestamp
        assert [scenario.clerk, scenario.bot] == [c.contact_id for c in await msg.mention_list()]
        assert await msg.mention_self()

        gateway.command(
            "say", **{"from": scenario.chief}, room=scenario.room, text="@所有人 明早开会"
        )
        everyone = await asyncio.wait_for(messages.get(), 10)
        assert "@所有人 明早开会" == everyone.text()
        assert [] == await everyone.mention_list()

        await room.say("本周工作群负担周报已生成")
        echoed = await asyncio.to_thread(
            gateway.wait_for, lambda e: "message" == e["event"] and scenario.bot == e["talkerId"]
        )
        assert (scenario.room, "本周工作群负担周报已生成") == (echoed["roomId"], echoed["text"])
    finally:
        await bot.stop()
        runner.cancel()
    # python-wechaty sent Stop; the WeChat account must stay logged in for the next connect.
    assert {"loggedIn": True, "selfId": scenario.bot}.items() <= gateway.command("ping").items()
    assert [] == [e for e in gateway.events if "logout" == e["event"]]
    assert TOKEN not in gateway.log_path.read_text(encoding="utf-8")


async def test_wechat_adapter_records_the_mock_world_through_the_gateway(
    gateway: Gateway, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeChatAdapter connects to the Node PuppetServer and turns login, rooms, room messages
    with mentions, joins, leaves and private messages into bot events, and can post text."""
    monkeypatch.chdir(tmp_path)
    from bot.adapters.wechat.adapter import WeChatAdapter

    adapter = WeChatAdapter(
        f"127.0.0.1:{gateway.port}", TOKEN, cache_dir=tmp_path / "wechaty", reconnect_delay=0.2
    )
    events = Recorder()
    runner = asyncio.create_task(adapter.run(events))
    try:
        connected = await events.wait_for(lambda e: isinstance(e, Connected), 20)
        assert Connected("wechat", scenario.bot, "减负助手") == connected

        groups = {g.group_id: g for g in await adapter.list_groups()}
        group = groups[scenario.room]
        assert ("城关镇工作群", scenario.chief) == (group.name, group.owner_id)
        assert {
            Member(scenario.bot, "减负助手", "member"),
            Member(scenario.chief, "王主任", "owner"),
            Member(scenario.clerk, "李四", "member"),
            Member(scenario.cadre, "张三", "member"),
        } == set(group.members)

        text = "@李四\u2005@减负助手\u2005今晚8点前报送台账，收到请回复"
        sent_at_ms = 1_763_740_800_000
        said = gateway.command(
            "say",
            **{"from": scenario.chief},
            room=scenario.room,
            text=text,
            mentions=[scenario.clerk, scenario.bot],
            timestamp=sent_at_ms,
        )
        message = await events.wait_for(lambda e: isinstance(e, GroupMessage), 10)
        assert (
            GroupMessage(
                platform="wechat",
                group_id=scenario.room,
                message_id=said["messageId"],
                sender_id=scenario.chief,
                sender_name="王主任",
                at=datetime.fromtimestamp(sent_at_ms / 1000, UTC),
                text=text,
                msg_type="text",
                mentions=(scenario.clerk, scenario.bot),
                mention_all=False,
                sender_role="owner",
                group_name="城关镇工作群",
            )
            == message
        )

        everyone = gateway.command(
            "say", **{"from": scenario.cadre}, room=scenario.room, text="@所有人 明早开会"
        )
        to_all = await events.wait_for(
            lambda e: isinstance(e, GroupMessage) and everyone["messageId"] == e.message_id, 10
        )
        assert isinstance(to_all, GroupMessage)
        assert ((), True, "member") == (to_all.mentions, to_all.mention_all, to_all.sender_role)

        newcomer = f"wxid_new_{scenario.room.split('@')[0]}"
        gateway.command("contact", id=newcomer, name="赵六")
        gateway.command("join", room=scenario.room, members=[newcomer], by=scenario.chief)
        joined = await events.wait_for(lambda e: isinstance(e, MemberJoined), 10)
        assert isinstance(joined, MemberJoined)
        assert (scenario.room, newcomer, "赵六", scenario.chief) == (
            joined.group_id,
            joined.user_id,
            joined.name,
            joined.operator_id,
        )
        gateway.command("leave", room=scenario.room, members=[newcomer], by=scenario.chief)
        left = await events.wait_for(lambda e: isinstance(e, MemberLeft), 10)
        assert isinstance(left, MemberLeft)
        assert (scenario.room, newcomer, scenario.chief, True) == (
            left.group_id,
            left.user_id,
            left.operator_id,
            left.kicked,
        )

        gateway.command("say", **{"from": scenario.clerk}, to=scenario.bot, text="我的负担")
        private = await events.wait_for(lambda e: isinstance(e, PrivateMessage), 10)
        assert isinstance(private, PrivateMessage)
        assert (scenario.clerk, "李四", "我的负担") == (
            private.sender_id,
            private.sender_name,
            private.text,
        )

        await adapter.send_group_text(scenario.room, "本周工作群负担周报已生成")
        echoed = await asyncio.to_thread(
            gateway.wait_for, lambda e: "message" == e["event"] and scenario.bot == e["talkerId"]
        )
        assert (scenario.room, "本周工作群负担周报已生成") == (echoed["roomId"], echoed["text"])

        # The digest picture: python-wechaty's FileBox JSON must parse in Node's file-box.
        await adapter.send_private_image(scenario.chief, PNG_1X1, "周报.png")
        picture = await asyncio.to_thread(
            gateway.wait_for, lambda e: "message" == e["event"] and e["fileName"] is not None
        )
        assert (scenario.bot, scenario.chief, "周报.png", len(PNG_1X1), 6) == (
            picture["talkerId"],
            picture["listenerId"],
            picture["fileName"],
            picture["fileSize"],
            picture["type"],  # wechaty-puppet MessageType.Image
        )
    finally:
        await adapter.stop()
        await asyncio.wait_for(runner, 15)
    assert gateway.command("ping")["loggedIn"]
    assert [] == [e for e in gateway.events if "logout" == e["event"]]

    # A restarted jianfu finds the account still logged in: the gateway replays the login.
    again = WeChatAdapter(f"127.0.0.1:{gateway.port}", TOKEN, cache_dir=tmp_path / "wechaty")
    replayed = Recorder()
    rerun = asyncio.create_task(again.run(replayed))
    try:
        assert Connected("wechat", scenario.bot, "减负助手") == await replayed.wait_for(
            lambda e: isinstance(e, Connected), 20
        )
        assert scenario.room in {g.group_id for g in await again.list_groups()}
    finally:
        await again.stop()
        await asyncio.wait_for(rerun, 15)
    # The bot's own post reaches the puppet but is not recorded as someone's message.
    assert [] == [
        e for e in events.events if isinstance(e, GroupMessage) and scenario.bot == e.sender_id
    ]
    assert TOKEN not in gateway.log_path.read_text(encoding="utf-8")


def _puppet_stub(port: int, authority: str) -> tuple[Any, Any]:
    """A raw wechaty-grpc client: (channel, stub) sending ``authority`` as python-wechaty does."""
    from grpclib.client import Channel

    with warnings.catch_warnings():
        # betterproto imports stringcase, whose invalid escape warns when first compiled.
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from wechaty_grpc.wechaty import PuppetStub

    channel = Channel(host="127.0.0.1", port=port)
    # python-wechaty sends its token as the HTTP/2 :authority; do the same.
    channel._authority = authority
    return channel, PuppetStub(channel)


async def test_gateway_rejects_a_wrong_token(gateway: Gateway) -> None:
    """A client presenting another token gets UNAUTHENTICATED, not the room list."""
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    channel, stub = _puppet_stub(gateway.port, "not-the-token")
    try:
        with pytest.raises(GRPCError) as caught:
            await stub.room_list()
    finally:
        channel.close()
    assert Status.UNAUTHENTICATED == caught.value.status


def _listening_addresses(port: int) -> set[str]:
    """Hex local addresses of sockets listening on ``port``, from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for row in table.read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.rpartition(":")
            if "0A" == state and port == int(hex_port, 16):
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_gateway_listens_on_loopback_only(gateway: Gateway) -> None:
    """The gRPC port is bound to 127.0.0.1 and to no other IPv4 or IPv6 address."""
    assert {"0100007F"} == _listening_addresses(gateway.port)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"JIANFU_PUPPET_TOKEN": ""}, "JIANFU_PUPPET_TOKEN is not set"),
        ({"JIANFU_PUPPET_TOKEN": "has space"}, "JIANFU_PUPPET_TOKEN may only contain"),
        ({"JIANFU_GATEWAY_PORT": "http"}, "JIANFU_GATEWAY_PORT must be a port number"),
        (
            {"JIANFU_PUPPET": "no-such-puppet-pkg"},
            'cannot load puppet package "no-such-puppet-pkg"',
        ),
    ],
)
def test_gateway_refuses_bad_configuration(node: str, env: dict[str, str], complaint: str) -> None:
    """Bad environment stops the gateway with exit code 2 and a message naming the setting."""
    full_env = {**os.environ, "JIANFU_PUPPET": "mock", "JIANFU_PUPPET_TOKEN": TOKEN}
    full_env["JIANFU_GATEWAY_PORT"] = "0"
    full_env.update(env)
    result = subprocess.run(
        [node, "server.mjs"],
        cwd=GATEWAY,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert 2 == result.returncode
    assert complaint in result.stderr
    assert "" == result.stdout


async def test_gateway_shows_the_login_qr_code_and_keeps_the_session_private(
    node: str, tmp_path: Path
) -> None:
    """A scan is reported on stdout with its QR content in the log; the session file is 0600."""
    session = tmp_path / "bot-session"
    gw = Gateway(node, tmp_path / "gateway.log", env={"JIANFU_GATEWAY_SESSION": str(session)})
    try:
        gw.command("scan", qrcode="https://login.weixin.qq.com/l/test-qr-7f3a")
        scan = gw.wait_for(lambda e: "scan" == e["event"])
        gw.command("contact", id="wxid_session_bot", name="减负助手")
        gw.command("login", id="wxid_session_bot")
        await asyncio.to_thread(gw.wait_for, lambda e: "login" == e["event"])
        session_file = tmp_path / "bot-session.memory-card.json"
        for _ in range(50):
            if session_file.exists():
                break
            await asyncio.sleep(0.1)
        mode = session_file.stat().st_mode & 0o777
    finally:
        gw.close()
    assert ("Waiting", 2) == (scan["statusName"], scan["status"])
    assert 0o600 == mode
    assert "wxid_session_bot" in session_file.read_text(encoding="utf-8")
    log = gw.log_path.read_text(encoding="utf-8")
    assert "QR code content: https://login.weixin.qq.com/l/test-qr-7f3a" in log
    assert TOKEN not in log
