"""``jianfu demo``: the real bot, both platforms simulated on loopback, one week replayed."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.adapters.onebot.adapter import OneBotAdapter
from bot.adapters.wechat.adapter import WeChatAdapter
from bot.app import JianfuBot
from bot.config import Config, ConfigError, DigestConfig
from bot.delivery import Delivery
from bot.events import BotError, ChatAdapter, Connected, Event
from bot.roster import RosterEntry, write_roster
from bot.scheduler import DigestScheduler
from bot.service import load_people, unit_lookup
from bot.simulator.onebot_peer import SimulatedOneBot
from bot.simulator.puppet_service import PuppetService
from bot.simulator.township import build_township, generate_week, roster_rows
from bot.simulator.township_model import SimGroup, SimMessage, Township
from metrics.calendar import week_bounds
from metrics.db import make_async_engine, migrate
from metrics.models import Group, Message

TZ = "Asia/Shanghai"
BOT_WECHAT_ID = "wx_jianfu_bot"
BOT_QQ_ID = 2854196310
FOCUS_UNIT = "镇党政办"
Echo = Callable[[str], None]


class SimClock:
    """The bot's clock in the demo: set by the replay, not by the wall."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def last_full_week(today: date) -> str:
    monday = today - timedelta(days=today.weekday())
    y, w, _ = (monday - timedelta(days=7)).isocalendar()
    return f"{y}-W{w:02d}"


def _qq(person_qq: str | None) -> int:
    assert person_qq is not None
    return int(person_qq)


class Demo:
    def __init__(
        self, township: Township, week: str, out: Path, echo: Echo, weeks: int = 2
    ) -> None:
        self.t = township
        self.week = week
        self.out = out
        self.echo = echo
        start, _ = week_bounds(week, TZ)
        # Replay the weeks before the digest week too, so it can show a trend.
        self.week_starts = [start - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
        self.clock = SimClock(self.week_starts[0] - timedelta(hours=2))
        self.puppet = PuppetService(token=secrets.token_hex(8), self_id=BOT_WECHAT_ID)
        self.peer = SimulatedOneBot(self_id=BOT_QQ_ID)
        self.qq_token = secrets.token_hex(16)
        self.connected: set[str] = set()
        self.delivered: list[Delivery] = []
        self.declining = self._pick_declining_group()

    def _pick_declining_group(self) -> SimGroup:
        # One owner never agrees, to show that such a group is not recorded at all.
        return next(g for g in reversed(self.t.groups) if g.platform == "wechat" and not g.dormant)

    def config(self) -> Config:
        db = self.out / "jianfu-demo.sqlite3"
        return Config(
            database_url=f"sqlite:///{db}",
            roster=self.out / "roster.csv",
            digest=DigestConfig(out_dir=self.out / "digests"),
            flush_seconds=0.5,
        )

    def build_world(self) -> None:
        for p in self.t.people:
            if p.wechat_id:
                self.puppet.add_contact(p.wechat_id, p.name)
        for g in self.t.groups:
            members = [self.t.person(k) for k in g.member_keys]
            owner = self.t.person(g.owner_key)
            if g.platform == "wechat":
                ids = [m.wechat_id for m in members if m.wechat_id] + [BOT_WECHAT_ID]
                assert owner.wechat_id
                self.puppet.add_room(g.group_id, g.name, owner.wechat_id, ids)
            else:
                role = {g.owner_key: "owner", **{k: "admin" for k in g.admin_keys}}
                self.peer.add_group(
                    int(g.group_id),
                    g.name,
                    [(_qq(m.qq_id), m.name, "", role.get(m.key, "member")) for m in members],
                )

    async def post(
        self,
        g: SimGroup,
        sender_key: str,
        text: str,
        at: datetime,
        mentions: tuple[str, ...] = (),
        mention_all: bool = False,
    ) -> None:
        sender = self.t.person(sender_key)
        if g.platform == "wechat":
            assert sender.wechat_id
            ids = [self.t.person(k).wechat_id or "" for k in mentions]
            await self.puppet.post_room_message(
                g.group_id, sender.wechat_id, text, mention_ids=ids, mention_all=mention_all, at=at
            )
        else:
            ids_q = [_qq(self.t.person(k).qq_id) for k in mentions]
            await self.peer.post_group_message(
                int(g.group_id), _qq(sender.qq_id), text, at_ids=ids_q, at_all=mention_all, at=at
            )


async def wait_until(
    predicate: Callable[[], object], what: str, timeout: float = 30.0, poll: float = 0.05
) -> None:
    """Poll ``predicate`` (plain or coroutine function) until true; BotError after ``timeout``.

    ``what`` completes the Chinese sentence "等待…超时" the user sees.

    Events cross real sockets and are handled asynchronously, so the simulator
    and the tests wait for their effects rather than sleeping a fixed time.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise BotError(f"等待{what}超时（{timeout:g} 秒）")
        await asyncio.sleep(poll)


DEMO_MARKER = ".jianfu-demo"
# Everything the demo writes into its folder; a rerun removes these and nothing else.
DEMO_FILES = (
    "jianfu-demo.sqlite3",
    "jianfu-demo.sqlite3-wal",
    "jianfu-demo.sqlite3-shm",
    "jianfu-demo.sqlite3-journal",
    "roster.csv",
    "digests",
    ".wechaty",
)


def prepare_out(out: Path) -> None:
    """Make ``out`` ready for a fresh demo without deleting anything the demo did not write.

    A folder is the demo's when it carries the marker file the demo leaves (or holds
    only the demo's own files); a missing or empty folder becomes one. Any other
    folder (``--out data`` holding the production database, say) is refused untouched.
    """
    marker = out / DEMO_MARKER
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} 是一个文件，不是目录")
    names = {p.name for p in out.iterdir()} if out.is_dir() else set()
    # A folder from a demo before the marker existed holds nothing but the demo's files,
    # among them its database, whose name no production folder has.
    old_demo = "jianfu-demo.sqlite3" in names and names <= set(DEMO_FILES)
    if names and not marker.is_file() and not old_demo:
        raise ConfigError(
            f"--out {out} 里已有别的文件，且不是演示建立的目录（没有 {DEMO_MARKER} 标记），"
            "演示不会改动它：请换一个新目录或空目录"
        )
    out.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    marker.write_text("jianfu demo: the demo replaces only its own files here\n", encoding="utf-8")


async def run_demo(*, seed: int, week: str | None, out: Path, echo: Echo, weeks: int = 2) -> None:
    started = time.monotonic()
    week = week or last_full_week(datetime.now(ZoneInfo(TZ)).date())
    prepare_out(out)
    township = build_township(seed)
    demo = Demo(township, week, out, echo, weeks)
    config = demo.config()
    write_roster(config.roster or out / "roster.csv", _roster(township))
    echo(
        f"模拟乡镇：{township.name}，{len(township.people)} 名干部，{len(township.groups)} 个工作群"
        f"（微信 {sum(g.platform == 'wechat' for g in township.groups)}，"
        f"QQ {sum(g.platform == 'qq' for g in township.groups)}）；回放 {week}"
    )
    await asyncio.to_thread(migrate, config.database_url)
    engine = make_async_engine(config.database_url)
    demo.build_world()
    endpoint = await demo.puppet.start()
    await load_people(engine, config, demo.clock())
    units = await unit_lookup(engine)
    wechat = WeChatAdapter(endpoint, demo.puppet.token, cache_dir=out / ".wechaty")
    qq = OneBotAdapter(host="127.0.0.1", port=0, access_token=demo.qq_token)
    adapters: dict[str, ChatAdapter] = {"wechat": wechat, "qq": qq}
    bot = JianfuBot(
        config,
        engine,
        adapters,
        clock=demo.clock,
        unit_of=lambda p, x: units.get((p, x)),
    )

    def note_login(event: Event) -> None:
        if isinstance(event, Connected):
            demo.connected.add(event.platform)

    bot.observers.append(note_login)
    runner = asyncio.create_task(bot.run())
    scheduler: DigestScheduler | None = None
    try:
        await qq.wait_ready()
        await demo.peer.connect(f"ws://127.0.0.1:{qq.bound_port}/onebot/v11/ws", demo.qq_token)
        await wait_until(lambda: demo.connected >= {"wechat", "qq"}, "微信和 QQ 两个平台登录")
        await _consent(demo, engine)
        messages = [
            m
            for n, monday in enumerate(demo.week_starts)
            for m in generate_week(township, monday.date(), seed + n)
        ]
        recorded = await _replay(demo, messages, engine)
        echo(
            f"已回放 {len(demo.week_starts)} 周共 {len(messages)} 条消息"
            f"（{recorded} 条来自已同意的群并被记录），用时 {time.monotonic() - started:.1f} 秒"
        )
        # Monday 08:31 after the week: the weekly job is due; the scheduler sends it.
        demo.clock.now = week_bounds(week, TZ)[1] + timedelta(hours=8, minutes=31)
        scheduler = DigestScheduler(
            engine, config, bot.send_to, clock=demo.clock, on_delivered=demo.delivered.extend
        )
        await scheduler.start()
        await wait_until(lambda: demo.delivered, "调度器发出周报", 60)
        _print_result(demo, config, township)
        echo(f"全程用时 {time.monotonic() - started:.1f} 秒。")
    finally:
        if scheduler:
            await scheduler.stop()
        await bot.stop()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await demo.peer.disconnect()
        await demo.puppet.stop()
        await engine.dispose()


def _roster(t: Township) -> list[RosterEntry]:
    """The roster an operator would keep for this township."""
    return [
        RosterEntry(
            name=r["name"],
            unit=r["unit"],
            department=r.get("department", ""),
            title=r.get("title", ""),
            wechat_id=r.get("wechat_id", ""),
            qq_id=r.get("qq_id", ""),
            is_head=r.get("is_head", "") == "yes",
        )
        for r in roster_rows(t)
    ]


async def _consent(demo: Demo, engine: object) -> None:
    """Every owner agrees, except one, whose group stays unrecorded."""
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    expected = 0
    for g in demo.t.groups:
        if g is demo.declining:
            continue
        await demo.post(g, g.owner_key, "同意记录", demo.clock())
        expected += 1

    async def active() -> bool:
        async with engine.connect() as conn:
            n = (
                await conn.execute(select(func.count()).where(Group.state == "active"))
            ).scalar_one()
        return n >= expected

    await wait_until(active, "群主同意记录")
    demo.echo(f"{expected} 个群的群主已同意记录；“{demo.declining.name}”未同意，不记录。")


async def _replay(demo: Demo, messages: list[SimMessage], engine: object) -> int:
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    expected = 0
    for i, m in enumerate(messages):
        demo.clock.now = m.at.astimezone(UTC)
        g = demo.t.group(m.group_key)
        await demo.post(g, m.sender_key, m.text, m.at, m.mention_keys, m.mention_all)
        expected += g is not demo.declining
        if i % 200 == 199:
            await asyncio.sleep(0)  # let the bot keep up

    async def stored() -> bool:
        async with engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(Message))).scalar_one()
        return n >= expected

    await wait_until(stored, "所有消息写入数据库", 120)
    return expected


def _print_result(demo: Demo, config: Config, t: Township) -> None:
    echo = demo.echo
    sent_ok = [d for d in demo.delivered if d.status == "sent"]
    if not sent_ok:
        errors = "; ".join(sorted({f"{d.unit}: {d.body}" for d in demo.delivered}))
        raise BotError(f"演示没能发出任何周报（{errors}）")
    focus = [d for d in sent_ok if d.unit == FOCUS_UNIT]
    shown = focus[0] if focus else sent_ok[0]
    head = next((p for p in t.heads if p.unit == shown.unit), None)
    who = f"{head.name}（{shown.unit}负责人）" if head else shown.unit
    echo("")
    echo(f"━━ 调度器已把周报私信发给 {who}，内容如下 ━━")
    echo(shown.body)
    echo("━" * 24)
    sent = sum(d.status == "sent" for d in demo.delivered)
    picture = config.digest.out_dir / demo.week / f"{shown.unit}.png"
    if picture.exists():
        echo(f"随周报发送的图片（非工作时间@热力图、负担最重的人）：{picture}")
    echo(
        f"共向 {len({d.unit for d in demo.delivered})} 个单位的负责人发出 {sent} 份周报；"
        f"文本已保存在 {config.digest.out_dir / demo.week}/"
    )
    db = config.database_url.removeprefix("sqlite:///")
    echo(
        f"数据库：{db}（督查人员可直接用 SQL 查询，例如：sqlite3 {db} 'SELECT * FROM messages LIMIT 5'）"
    )
    echo(f"其他单位的周报：jianfu digest --week {demo.week} --unit 新河村 --db {db}")
