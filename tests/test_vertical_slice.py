"""The WeChat vertical slice end to end: the real python-wechaty client over loopback gRPC,
consent, recording, weekly figures computed by hand, and the digest."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.roster import RosterEntry
from metrics.calendar import DEFAULT_SCHEDULE
from metrics.db import make_engine, sqlite_path
from metrics.digest import build_digest, render_digest
from metrics.queries import person_week
from tests.conftest import Clock
from tests.harness import running_bot

SH = ZoneInfo("Asia/Shanghai")
CONTACTS = {"wx_o": "欧阳主任", "wx_x": "徐干事", "wx_y": "杨站长", "wx_z": "赵书记"}
ROOMS = [
    ("roomA@chatroom", "镇党政办工作群", "wx_o", ["wx_o", "wx_x", "wx_y"]),
    ("roomB@chatroom", "镇防汛工作群", "wx_y", ["wx_y", "wx_x", "wx_z"]),
]
ROSTER = [
    RosterEntry("欧阳主任", "镇党政办", "党政办", "主任", wechat_id="wx_o", is_head=True),
    RosterEntry("徐干事", "镇党政办", "党政办", "干事", wechat_id="wx_x"),
    RosterEntry("杨站长", "镇党政办", "应急办", "站长", wechat_id="wx_y"),
    RosterEntry("赵书记", "新河村", "村两委", "村支书", wechat_id="wx_z", is_head=True),
]


def sh(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def bot_running(db_url: str, tmp_path: Path, clock: Clock, **kw: object):  # type: ignore[no-untyped-def]
    return running_bot(db_url, tmp_path, clock, rooms=ROOMS, contacts=CONTACTS, roster=ROSTER, **kw)  # type: ignore[arg-type]


async def consent_both(h, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = sh(2025, 9, 21, 20)
    await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", clock.now)
    await h.wechat_say("roomB@chatroom", "wx_y", "@减负助手 同意记录", clock.now)
    await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 2)


# The scenario: week 2025-W39 ends with the 调休 working Sunday 2025-09-28;
# week 2025-W40 holds National Day (2025-10-01, a statutory holiday).
SCENARIO = [
    # (room, talker, text, local time, mentions, mention_all)
    ("roomA@chatroom", "wx_o", "本周例会周三召开", sh(2025, 9, 22, 10), (), True),  # work
    (
        "roomA@chatroom",
        "wx_o",
        "请今晚报送台账",
        sh(2025, 9, 22, 21, 30),
        ("wx_x",),
        False,
    ),  # evening
    (
        "roomB@chatroom",
        "wx_y",
        "紧急：明早8点前上报水位",
        sh(2025, 9, 23, 23, 10),
        (),
        True,
    ),  # night
    ("roomA@chatroom", "wx_y", "周末值班安排已发群文件", sh(2025, 9, 27, 10), (), False),  # weekend
    (
        "roomA@chatroom",
        "wx_o",
        "请确认值班表",
        sh(2025, 9, 28, 10),
        ("wx_y",),
        False,
    ),  # 调休 workday
    ("roomB@chatroom", "wx_z", "收到", sh(2025, 9, 28, 12, 30), (), False),  # lunch
    ("roomA@chatroom", "wx_o", "节日期间请保持通讯畅通", sh(2025, 10, 1, 10), (), True),  # holiday
    ("roomA@chatroom", "wx_x", "收到", sh(2025, 10, 1, 10, 5), (), False),  # holiday
]


async def play_scenario(h, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    for room, talker, body, at, mentions, everyone in SCENARIO:
        clock.now = at
        await h.wechat_say(room, talker, body, at, mentions, everyone)
    await h.settle("SELECT COUNT(*) FROM messages", len(SCENARIO))


def figures(db_url: str, week: str) -> dict[str, tuple[int, int, int, int, int]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = person_week(conn, week, "Asia/Shanghai")
    engine.dispose()
    return {
        r.name: (
            r.groups,
            r.received,
            r.received_off_hours,
            r.pings_off_hours,
            r.pings_all_off_hours,
        )
        for r in rows
    }


async def test_hand_computed_week_figures(any_db_url: str, tmp_path: Path, clock: Clock) -> None:
    """Group counts, after-hours messages and pings match figures computed by hand."""
    db_url = any_db_url
    async with bot_running(db_url, tmp_path, clock) as h:
        await consent_both(h, clock)
        await play_scenario(h, clock)
        bands = [r[0] for r in await h.rows("SELECT band FROM messages ORDER BY sent_at")]
    assert ["work", "evening", "night", "weekend", "work", "lunch", "holiday", "holiday"] == bands
    # name: (groups, received, received off-hours, @me off-hours, @all off-hours)
    assert {
        "欧阳主任": (1, 1, 1, 0, 0),
        "徐干事": (2, 6, 4, 1, 1),
        "杨站长": (2, 4, 2, 0, 0),
        "赵书记": (1, 1, 1, 0, 1),
    } == figures(db_url, "2025-W39")
    assert {
        "欧阳主任": (1, 1, 1, 0, 0),
        "徐干事": (2, 1, 1, 0, 1),
        "杨站长": (2, 2, 2, 0, 1),
        "赵书记": (1, 0, 0, 0, 0),
    } == figures(db_url, "2025-W40")


async def test_digest_reports_the_unit(db_url: str, tmp_path: Path, clock: Clock) -> None:
    """The unit head's digest names the week, the groups, people and the heaviest load."""
    async with bot_running(db_url, tmp_path, clock) as h:
        await consent_both(h, clock)
        await play_scenario(h, clock)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        body = render_digest(build_digest(conn, "2025-W39", DEFAULT_SCHEDULE, "镇党政办"))
    engine.dispose()
    assert body.startswith("【减负周报】镇党政办 · 2025年第39周（9月22日—9月28日）")
    assert "监测工作群 2 个，覆盖 3 人" in body
    assert "1. 徐干事：2 个群，非工作时间收到 4 条，被@ 1 次，@所有人 1 次" in body
    assert "R1" in body


async def test_nothing_recorded_before_consent(db_url: str, tmp_path: Path, clock: Clock) -> None:
    """Messages before the owner agrees leave no row; the group was announced instead."""
    async with bot_running(db_url, tmp_path, clock) as h:
        notice = await h.wait_group_reply("roomA@chatroom", "不记录消息内容")
        assert "同意记录" in notice
        await h.wechat_say("roomA@chatroom", "wx_x", "请各位今晚报送材料", sh(2025, 9, 21, 19))
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", sh(2025, 9, 21, 20))
        await h.wait_group_reply("roomA@chatroom", "已开始统计")
        await h.wechat_say("roomA@chatroom", "wx_x", "收到", sh(2025, 9, 21, 20, 5))
        await h.settle("SELECT COUNT(*) FROM messages", 1)
        assert [("ack_reply",)] == [tuple(r) for r in await h.rows("SELECT labels FROM messages")]
        assert 1 == await h.scalar("SELECT COUNT(*) FROM messages")
        assert 0 == await h.scalar(
            "SELECT COUNT(*) FROM messages WHERE group_id = "
            "(SELECT id FROM groups WHERE external_id = 'roomB@chatroom')"
        )


async def test_non_admin_cannot_consent_or_stop(db_url: str, tmp_path: Path, clock: Clock) -> None:
    """A member's 同意记录 and 停止记录 are refused politely and audited."""
    async with bot_running(db_url, tmp_path, clock) as h:
        await h.wechat_say("roomA@chatroom", "wx_x", "同意记录", sh(2025, 9, 21, 20))
        assert "只有群主" in await h.wait_group_reply("roomA@chatroom", "抱歉")
        assert "pending" == await h.scalar(
            "SELECT state FROM groups WHERE external_id = 'roomA@chatroom'"
        )
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", sh(2025, 9, 21, 20, 1))
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        await h.wechat_say("roomA@chatroom", "wx_x", "停止记录", sh(2025, 9, 21, 20, 2))
        await h.settle("SELECT COUNT(*) FROM audit_events WHERE outcome = 'refused'", 2)
        assert "active" == await h.scalar(
            "SELECT state FROM groups WHERE external_id = 'roomA@chatroom'"
        )
        assert [("consent", "refused"), ("consent", "ok"), ("stop", "refused")] == [
            tuple(r)
            for r in await h.rows(
                "SELECT action, outcome FROM audit_events WHERE action IN ('consent', 'stop') ORDER BY id"
            )
        ]
        assert "roomA@chatroom" not in h.puppet.left_rooms
        assert [("wechat", "wx_bot")] == [
            tuple(r) for r in await h.rows("SELECT platform, self_id FROM accounts")
        ]


async def test_config_admin_may_consent_and_owner_stop_makes_bot_leave(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """An admin named in the config confirms; the owner's 停止记录 stops recording and the bot leaves."""
    async with bot_running(db_url, tmp_path, clock, admins=("wechat:wx_x",)) as h:
        await h.wechat_say("roomA@chatroom", "wx_x", "同意记录", sh(2025, 9, 21, 20))
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        await h.wechat_say("roomA@chatroom", "wx_o", "停止记录", sh(2025, 9, 22, 9))
        await h.wait(lambda: "roomA@chatroom" in h.puppet.left_rooms, "the bot to leave")
        await h.wechat_say("roomA@chatroom", "wx_o", "还在吗", sh(2025, 9, 22, 9, 5))
        assert "stopped" == await h.scalar(
            "SELECT state FROM groups WHERE external_id = 'roomA@chatroom'"
        )
        assert 0 == await h.scalar("SELECT COUNT(*) FROM messages")


async def test_opt_out_removes_past_rows_and_keeps_anonymous_counts(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """After 退出统计 a member's name, memberships and mentions are gone; counts stay anonymous."""
    async with bot_running(db_url, tmp_path, clock, store_text=True) as h:
        await consent_both(h, clock)
        await h.wechat_say("roomA@chatroom", "wx_x", "台账已报", sh(2025, 9, 22, 10))
        await h.wechat_say("roomA@chatroom", "wx_o", "请核对", sh(2025, 9, 22, 21), ("wx_x",))
        await h.settle("SELECT COUNT(*) FROM messages", 2)
        x_id = await h.scalar("SELECT id FROM identities WHERE external_id = 'wx_x'")
        await h.wechat_say("roomA@chatroom", "wx_x", "退出统计", sh(2025, 9, 22, 22))
        await h.wait_group_reply("roomA@chatroom", "已删除您")
        await h.wechat_say("roomB@chatroom", "wx_x", "明天报", sh(2025, 9, 23, 10))
        await h.settle("SELECT COUNT(*) FROM messages", 3)
        x_ids = f"({x_id})"
        assert 0 == await h.scalar("SELECT COUNT(*) FROM identities WHERE external_id = 'wx_x'")
        assert 1 == await h.scalar("SELECT COUNT(*) FROM identities WHERE person_id = "
                                   f"(SELECT person_id FROM identities WHERE id = {x_id})")
        assert 0 == await h.scalar(f"SELECT COUNT(*) FROM memberships WHERE identity_id IN {x_ids}")
        assert 0 == await h.scalar(
            f"SELECT COUNT(*) FROM message_mentions WHERE identity_id IN {x_ids}"
        )
        assert 0 == await h.scalar(
            f"SELECT COUNT(*) FROM messages WHERE sender_identity_id IN {x_ids}"
        )
        assert 2 == await h.scalar("SELECT COUNT(*) FROM messages WHERE sender_identity_id IS NULL")
        assert 0 == await h.scalar("SELECT COUNT(*) FROM messages WHERE text LIKE '%报%'")
        assert 0 == await h.scalar("SELECT COUNT(*) FROM people WHERE name = '徐干事'")
        assert "" == await h.scalar(f"SELECT display_name FROM identities WHERE id IN {x_ids}")
    assert "徐干事" not in figures(db_url, "2025-W39")
    assert "已退出成员" not in figures(db_url, "2025-W39")


async def test_digest_sent_once_per_unit_week_recipient_across_restarts(
    any_db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """The scheduler's catch-up after a restart does not send a digest twice."""
    from bot.scheduler import DigestScheduler

    db_url = any_db_url
    async with bot_running(db_url, tmp_path, clock) as h:
        await consent_both(h, clock)
        await play_scenario(h, clock)
        clock.now = sh(2025, 9, 29, 9)  # Monday after W39; the 08:30 run was missed
        for _restart in range(2):
            done: list[object] = []
            sched = DigestScheduler(
                h.engine, h.bot.config, h.bot.send_to, clock=clock, on_delivered=done.extend
            )
            await sched.start()
            await h.wait(lambda done=done: done, "catch-up delivery")  # type: ignore[misc]
            await sched.stop()
        digests = [s for s in h.puppet.sent if s.text.startswith("【减负周报】")]
        pictures = sorted((f.conversation_id, f.data[:8]) for f in h.puppet.sent_files)
        rows = await h.rows("SELECT unit, week, recipient_id, status FROM digests ORDER BY unit")
    assert [("wx_o", "镇党政办"), ("wx_z", "新河村")] == sorted(
        (s.conversation_id, s.text.split("】")[1].split(" ")[0]) for s in digests
    )
    assert [("新河村", "2025-W39", "wx_z", "sent"), ("镇党政办", "2025-W39", "wx_o", "sent")] == [
        tuple(r) for r in rows
    ]
    png = b"\x89PNG\r\n\x1a\n"
    assert [("wx_o", png), ("wx_z", png)] == pictures  # one picture each, also not repeated
    assert (tmp_path / "digests" / "2025-W39" / "镇党政办.txt").exists()
    assert (tmp_path / "digests" / "2025-W39" / "镇党政办.png").read_bytes().startswith(png)


def test_database_file_is_private(db_url: str) -> None:
    """The SQLite file is created readable and writable by its owner only."""
    path = sqlite_path(db_url)
    assert path is not None
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)


def test_alembic_matches_models(db_url: str) -> None:
    """Autogenerate finds no difference between the models and the migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from metrics.models import Base

    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert [] == diff


@pytest.mark.parametrize("week", ["2025-W39"])
def test_weeks_are_iso_in_local_time(week: str) -> None:
    """A Sunday-night message in Shanghai belongs to that ISO week, not the next UTC one."""
    from metrics.calendar import iso_week

    assert week == iso_week(sh(2025, 9, 28, 23, 59), "Asia/Shanghai")
    assert "2025-W40" == iso_week(sh(2025, 9, 29, 0, 1), "Asia/Shanghai")


async def test_restart_does_not_announce_again(db_url: str, tmp_path: Path, clock: Clock) -> None:
    """A pending group is told about the bot once, not again after each restart."""
    async with bot_running(db_url, tmp_path, clock) as h:
        await h.wait_group_reply("roomA@chatroom", "同意记录")
    async with bot_running(db_url, tmp_path, clock) as h:
        await h.wechat_say("roomB@chatroom", "wx_y", "同意记录", sh(2025, 9, 21, 20))
        await h.wait_group_reply("roomB@chatroom", "已开始统计")
        assert [] == [s for s in h.puppet.sent if "大家好" in s.text]
        assert 2 == await h.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'announce'")


async def test_invited_back_after_stop_asks_for_consent_again(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """After 停止记录 and a new invitation, the group is pending and announced again."""
    async with bot_running(db_url, tmp_path, clock) as h:
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", sh(2025, 9, 21, 20))
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        await h.wechat_say("roomA@chatroom", "wx_o", "停止记录", sh(2025, 9, 22, 9))
        await h.wait(lambda: "roomA@chatroom" in h.puppet.left_rooms, "the bot to leave")
        await h.puppet.invite_bot("roomA@chatroom", "wx_o")
        await h.settle(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'announce' AND group_id = "
            "(SELECT id FROM groups WHERE external_id = 'roomA@chatroom')",
            2,
        )
        assert "pending" == await h.scalar(
            "SELECT state FROM groups WHERE external_id = 'roomA@chatroom'"
        )
        await h.wechat_say("roomA@chatroom", "wx_x", "今晚报送", sh(2025, 9, 23, 21))
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", sh(2025, 9, 23, 22))
        await h.wechat_say("roomA@chatroom", "wx_x", "收到", sh(2025, 9, 23, 22, 1))
        await h.settle("SELECT COUNT(*) FROM messages", 1)
        assert "active" == await h.scalar(
            "SELECT state FROM groups WHERE external_id = 'roomA@chatroom'"
        )
