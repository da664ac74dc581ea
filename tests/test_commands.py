"""Consent and cadre commands on QQ (roles as QQ reports them) and in private chats."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.roster import RosterEntry
from tests.conftest import Clock
from tests.harness import BOT_QQ, BOT_WX, running_bot

SH = ZoneInfo("Asia/Shanghai")
QQ_GROUP = (
    7007,
    "村网格员群",
    [
        (2001, "群主老周", "周书记", "owner"),
        (2002, "管理员", "", "admin"),
        (2003, "小吴", "", "member"),
    ],
)
ROSTER = [
    RosterEntry("周书记", "新河村", qq_id="2001", is_head=True),
    RosterEntry("吴网格员", "新河村", qq_id="2003", wechat_id="wx_wu"),
    RosterEntry("钱主任", "镇党政办", wechat_id="wx_qian", is_head=True),
]


async def test_qq_admin_consents_member_is_refused(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """A QQ member's 同意记录 is refused; the group's QQ admin may consent; the bot announced first."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=[], contacts={}, roster=ROSTER, qq_groups=[QQ_GROUP]
    ) as h:
        assert h.peer is not None
        await h.peer.wait_sent(lambda m: m.target_id == 7007 and "同意记录" in m.text, 10)
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        await h.peer.post_group_message(7007, 2003, "@减负助手 同意记录", at=clock.now)
        await h.peer.wait_sent(lambda m: "只有群主" in m.text, 10)
        await h.peer.post_group_message(7007, 2003, "请大家今晚报送台账", at=clock.now)
        await h.peer.post_group_message(7007, 2002, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        await h.peer.post_group_message(
            7007, 2001, "@所有人 明早8点前上报", at_all=True, at=clock.now
        )
        await h.settle("SELECT COUNT(*) FROM messages", 1)
        assert [("consent", "refused"), ("consent", "ok")] == [
            tuple(r)
            for r in await h.rows(
                "SELECT action, outcome FROM audit_events WHERE action = 'consent' ORDER BY id"
            )
        ]
        assert [(True, "deadline,material_request")] == [
            (bool(r[0]), r[1]) for r in await h.rows("SELECT mention_all, labels FROM messages")
        ]


async def test_qq_member_opts_out(db_url: str, tmp_path: Path, clock: Clock) -> None:
    """退出统计 on QQ removes that cadre's memberships; the reply goes to the group."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=[], contacts={}, roster=ROSTER, qq_groups=[QQ_GROUP]
    ) as h:
        assert h.peer is not None
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        await h.peer.post_group_message(7007, 2001, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM memberships", 3)
        await h.peer.post_group_message(7007, 2003, "退出统计", at=clock.now)
        await h.peer.wait_sent(lambda m: "已删除您" in m.text, 10)
        assert 2 == await h.scalar("SELECT COUNT(*) FROM memberships")
        assert 1 == await h.scalar("SELECT COUNT(*) FROM people WHERE opted_out")


async def test_my_load_in_private_gives_only_own_figures(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """我的负担 answers privately with the asker's figures; 我的群数 is recorded and shown."""
    async with running_bot(
        db_url,
        tmp_path,
        clock,
        rooms=[("r@chatroom", "镇党政办工作群", "wx_qian", ["wx_qian", "wx_wu"])],
        contacts={"wx_qian": "钱主任", "wx_wu": "吴网格员"},
        roster=ROSTER,
    ) as h:
        clock.now = datetime(2026, 11, 16, 8, tzinfo=SH)
        await h.wechat_say("r@chatroom", "wx_qian", "同意记录", clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        night = datetime(2026, 11, 17, 22, 30, tzinfo=SH)
        await h.wechat_say("r@chatroom", "wx_qian", "请把照片发群里", night, ("wx_wu",))
        await h.settle("SELECT COUNT(*) FROM messages", 1)
        clock.now = datetime(2026, 11, 18, 10, tzinfo=SH)
        await h.puppet.post_private_message("wx_wu", "我的群数 12", at=clock.now)
        await h.puppet.wait_sent(lambda s: "共在 12 个工作群" in s.text, 10)
        await h.puppet.post_private_message("wx_wu", "我的负担", at=clock.now)
        reply = await h.puppet.wait_sent(
            lambda s: s.conversation_id == "wx_wu" and "负担" in s.text, 10
        )
    assert "所在已统计工作群 1 个" in reply.text
    assert "非工作时间被@ 1 次" in reply.text
    assert "您自报共在 12 个工作群（助手统计到 1 个）" in reply.text
    assert "钱主任" not in reply.text


async def test_qq_messages_missed_while_down_are_caught_up_once(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """After a restart, QQ history since the last recorded message is fetched, nothing twice."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=[], contacts={}, roster=ROSTER, qq_groups=[QQ_GROUP]
    ) as h:
        assert h.peer is not None
        peer = h.peer
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        await peer.post_group_message(7007, 2001, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        await peer.post_group_message(
            7007, 2001, "上午的通知", at=datetime(2026, 11, 16, 10, tzinfo=SH)
        )
        await h.settle("SELECT COUNT(*) FROM messages", 1)
    # The bot is down: these reach only the implementation's history.
    for hour in (20, 21):
        await peer.post_group_message(
            7007, 2002, f"{hour}点的要求：请报送台账", at=datetime(2026, 11, 16, hour, tzinfo=SH)
        )
    async with running_bot(db_url, tmp_path, clock, rooms=[], contacts={}, peer=peer) as h:
        await h.settle("SELECT COUNT(*) FROM messages", 3)
        await peer.post_group_message(
            7007, 2003, "收到", at=datetime(2026, 11, 16, 21, 5, tzinfo=SH)
        )
        await h.settle("SELECT COUNT(*) FROM messages", 4)
        bands = [r[0] for r in await h.rows("SELECT band FROM messages ORDER BY sent_at")]
    assert ["work", "evening", "evening", "evening"] == bands


async def test_consent_authority_comes_from_the_member_list_not_the_frame(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """A member whose frame claims "owner" or "admin" is refused; an admin by the platform's
    member list is accepted even when the frame says "member"."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=[], contacts={}, roster=ROSTER, qq_groups=[QQ_GROUP]
    ) as h:
        assert h.peer is not None
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        for claimed in ("owner", "admin"):
            await h.peer.post_group_message(
                7007, 2003, "同意记录", at=clock.now, claimed_role=claimed
            )
        await h.settle("SELECT COUNT(*) FROM audit_events WHERE outcome = 'refused'", 2)
        assert "pending" == await h.scalar("SELECT state FROM groups")
        await h.peer.post_group_message(7007, 2002, "同意记录", at=clock.now, claimed_role="member")
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 1)
        assert [("refused",), ("refused",), ("ok",)] == [
            tuple(r)
            for r in await h.rows(
                "SELECT outcome FROM audit_events WHERE action = 'consent' ORDER BY id"
            )
        ]
        assert "2002" == await h.scalar("SELECT consented_by FROM groups")


async def test_group_help_only_when_the_bot_is_mentioned(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """In a group, 帮助 and 我的负担 typed alone are ordinary (recorded) messages; @-mentioning
    the bot gets the answer, on WeChat (mention list or @name in the text) and on QQ (at segment)."""
    room = ("r@chatroom", "镇党政办工作群", "wx_qian", ["wx_qian", "wx_wu"])
    async with running_bot(
        db_url,
        tmp_path,
        clock,
        rooms=[room],
        contacts={"wx_qian": "钱主任", "wx_wu": "吴网格员"},
        roster=ROSTER,
        qq_groups=[QQ_GROUP],
    ) as h:
        assert h.peer is not None
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        await h.wechat_say("r@chatroom", "wx_qian", "同意记录", clock.now)
        await h.peer.post_group_message(7007, 2001, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 2)
        await h.wechat_say("r@chatroom", "wx_wu", "帮助", clock.now)
        await h.wechat_say("r@chatroom", "wx_wu", "我的负担", clock.now)
        await h.wechat_say("r@chatroom", "wx_wu", "帮助", clock.now, mentions=(BOT_WX,))
        # Some puppets leave the mention list empty; "@减负助手" in the text still counts.
        await h.wechat_say("r@chatroom", "wx_wu", "@减负助手 我的负担", clock.now)
        await h.peer.post_group_message(7007, 2003, "减负帮助", at=clock.now)
        await h.peer.post_group_message(7007, 2003, " 减负帮助", at_ids=[BOT_QQ], at=clock.now)
        await h.peer.post_group_message(7007, 2003, " 我的负担", at_ids=[BOT_QQ], at=clock.now)
        await h.puppet.wait_sent(lambda s: "个人数据只在私聊" in s.text, 10)
        await h.peer.wait_sent(lambda m: "个人数据只在私聊" in m.text, 10)
        await h.settle("SELECT COUNT(*) FROM messages", 3)
        wechat_replies = [s.text for s in h.puppet.sent if s.conversation_id == "r@chatroom"]
        qq_replies = [m.text for m in h.peer.sent if m.target_id == 7007]
    assert 1 == sum("可用指令" in t for t in wechat_replies)
    assert 1 == sum("个人数据只在私聊" in t for t in wechat_replies)
    assert 1 == sum("可用指令" in t for t in qq_replies)
    assert 1 == sum("个人数据只在私聊" in t for t in qq_replies)


async def test_bot_texts_say_text_is_stored_when_it_is(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """With text storage on, the consent reply and the help text say so and never 不记录内容."""
    room = ("r@chatroom", "镇党政办工作群", "wx_qian", ["wx_qian", "wx_wu"])
    async with running_bot(
        db_url,
        tmp_path,
        clock,
        rooms=[room],
        contacts={"wx_qian": "钱主任", "wx_wu": "吴网格员"},
        store_text=True,
    ) as h:
        clock.now = datetime(2026, 11, 16, 9, tzinfo=SH)
        announcement = await h.wait_group_reply("r@chatroom", "同意记录")
        await h.wechat_say("r@chatroom", "wx_qian", "同意记录", clock.now)
        consented = await h.wait_group_reply("r@chatroom", "已开始统计")
        await h.wechat_say("r@chatroom", "wx_wu", "减负帮助", clock.now, mentions=(BOT_WX,))
        help_reply = await h.wait_group_reply("r@chatroom", "可用指令")
    for text in (announcement, consented, help_reply):
        assert "不记录内容" not in text
        assert "不记录消息内容" not in text
        assert "消息正文" in text
