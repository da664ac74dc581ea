"""退出统计 leaves nothing that names the person: database bytes, WAL, Datasette, exports, files."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.delivery import deliver_week
from bot.roster import RosterEntry, write_roster
from bot.service import load_people
from metrics.db import sqlite_path
from tests import privacy_sweep
from tests.conftest import Clock
from tests.harness import Harness, running_bot

SH = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W47"
XU_WX, XU_QQ = "wxid_xu7f3k", 734215986  # distinctive, so a byte search cannot hit by chance
XU = ["徐干事", "徐晓明", XU_WX, str(XU_QQ)]  # roster name, WeChat name, both accounts
CONTACTS = {"wx_o": "欧阳主任", XU_WX: "徐晓明", "wx_y": "杨站长"}
ROOMS = [
    ("roomA@chatroom", "镇党政办工作群", "wx_o", ["wx_o", XU_WX, "wx_y"]),
    ("roomB@chatroom", "镇防汛工作群", XU_WX, [XU_WX, "wx_o"]),  # Xu owns it and consents
]
QQ_GROUP = (
    8008,
    "镇党政办QQ群",
    [(2001, "欧阳", "欧阳主任", "owner"), (XU_QQ, "徐晓明QQ", "徐干事", "member")],
)
ROSTER = [
    RosterEntry(
        "欧阳主任", "镇党政办", "党政办", "主任", wechat_id="wx_o", qq_id="2001", is_head=True
    ),
    RosterEntry("徐干事", "镇党政办", "党政办", "干事", wechat_id=XU_WX, qq_id=str(XU_QQ)),
    RosterEntry("杨站长", "镇党政办", "应急办", "站长", wechat_id="wx_y"),
]


def sh(d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, 11, d, h, mi, tzinfo=SH)


async def _week_with_xu(h: Harness, clock: Clock) -> None:
    """Xu consents and owns a group, posts, is @-mentioned and named; the digest names him."""
    assert h.peer is not None
    clock.now = sh(15, 20)
    await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", clock.now)
    await h.wechat_say("roomB@chatroom", XU_WX, "同意记录", clock.now)
    await h.peer.post_group_message(8008, 2001, "同意记录", at=clock.now)
    await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 3)
    await h.wechat_say("roomA@chatroom", "wx_o", "@徐晓明 请今晚报送台账", sh(16, 21), (XU_WX,))
    await h.wechat_say("roomA@chatroom", XU_WX, "台账已报，徐干事", sh(16, 21, 30))
    await h.wechat_say("roomB@chatroom", "wx_o", "请徐干事明早8点前上报水位", sh(17, 22))
    await h.peer.post_group_message(8008, 2001, " 请核对", at_ids=[XU_QQ], at=sh(18, 21))
    await h.peer.post_group_message(8008, XU_QQ, "收到", at=sh(18, 21, 5))
    await h.settle("SELECT COUNT(*) FROM messages", 5)
    clock.now = sh(23, 9)
    sent = await deliver_week(h.engine, h.bot.config, h.bot.send_to, WEEK, clock.now)
    assert ["sent"] == [d.status for d in sent]
    # The starting point the test is about: Xu is visible everywhere before opting out.
    assert "徐干事" in sent[0].body
    assert [(XU_WX, XU_WX)] == [
        tuple(r)
        for r in await h.rows(
            "SELECT owner_external_id, consented_by FROM groups"
            " WHERE external_id = 'roomB@chatroom'"
        )
    ]


async def _sweep(db: Path, tmp_path: Path, out_dir: Path) -> list[str]:
    found = privacy_sweep.database_files(db, XU)
    pages, on_pages = await privacy_sweep.datasette_pages(db, WEEK, XU)
    assert pages > 100  # every table, view, row and canned query was fetched
    files, in_files = privacy_sweep.saved_files(out_dir, XU)
    assert files >= 2  # the digest text and its chart
    return found + on_pages + in_files + privacy_sweep.exports(db, WEEK, tmp_path / "exports", XU)


@pytest.mark.parametrize("where", ["group", "private"])
async def test_opted_out_person_is_found_nowhere(
    db_url: str, tmp_path: Path, clock: Clock, where: str
) -> None:
    """After 退出统计 in a group or in a private chat (text storage on) no byte of the database or
    its WAL, no Datasette page, no export and no saved digest file holds the person's names or
    account ids; their old and new messages stay as anonymous counts."""
    db = sqlite_path(db_url)
    assert db is not None
    out_dir = tmp_path / "digests"
    async with running_bot(
        db_url,
        tmp_path,
        clock,
        rooms=ROOMS,
        contacts=CONTACTS,
        roster=ROSTER,
        qq_groups=[QQ_GROUP],
        store_text=True,
    ) as h:
        await _week_with_xu(h, clock)
        xu = await h.scalar("SELECT person_id FROM identities WHERE external_id = :x", x=XU_WX)
        assert privacy_sweep.database_files(db, XU)  # the search finds what is there
        assert privacy_sweep.saved_files(out_dir, XU)[1]
        if where == "group":
            await h.wechat_say("roomA@chatroom", XU_WX, "退出统计", sh(23, 10))
            await h.wait_group_reply("roomA@chatroom", "已删除您")
        else:
            await h.puppet.post_private_message(XU_WX, "退出统计", at=sh(23, 10))
            await h.puppet.wait_sent(
                lambda s: s.conversation_id == XU_WX and "已删除您" in s.text, 10
            )
        # Afterwards: Xu still posts and is still @-mentioned; both stay anonymous.
        await h.wechat_say("roomA@chatroom", XU_WX, "我还在群里", sh(23, 11))
        await h.wechat_say("roomA@chatroom", "wx_o", "@徐晓明 收到没", sh(23, 11, 5), (XU_WX,))
        await h.peer.post_group_message(8008, XU_QQ, "好的", at=sh(23, 11, 10))
        await h.settle("SELECT COUNT(*) FROM messages", 8)
        assert 4 == await h.scalar("SELECT COUNT(*) FROM messages WHERE sender_identity_id IS NULL")
        assert 3 == await h.scalar("SELECT COUNT(*) FROM messages WHERE mention_count = 1")
        assert 0 == await h.scalar(
            "SELECT COUNT(*) FROM identities i JOIN memberships m ON m.identity_id = i.id"
            " WHERE i.person_id = :p",
            p=xu,
        )
        assert [] == privacy_sweep.database_files(db, XU)  # while running: file and WAL
    assert [] == await _sweep(db, tmp_path, out_dir)
    from metrics.chart import CHART_PEOPLE_KEY

    with Image.open(out_dir / WEEK / "镇党政办.png") as chart:
        assert str(xu) not in str(chart.text.get(CHART_PEOPLE_KEY, "")).split(",")  # type: ignore[attr-defined]


async def test_opt_in_again_counts_the_same_account(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """An opted-out account is recognised by its pseudonym; 加入统计 makes it count by id again."""
    async with running_bot(
        db_url, tmp_path, clock, rooms=ROOMS[:1], contacts=CONTACTS, roster=ROSTER
    ) as h:
        clock.now = sh(16, 9)
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", clock.now)
        await h.settle("SELECT COUNT(*) FROM memberships", 3)
        await h.wechat_say("roomA@chatroom", XU_WX, "退出统计", sh(16, 10))
        await h.wait_group_reply("roomA@chatroom", "已删除您")
        await h.wechat_say("roomA@chatroom", XU_WX, "退出统计", sh(16, 10, 1))
        await h.wait_group_reply("roomA@chatroom", "您已退出统计")
        assert 1 == await h.scalar("SELECT COUNT(*) FROM people WHERE opted_out")
        await h.wechat_say("roomA@chatroom", XU_WX, "加入统计", sh(16, 11))
        await h.wait_group_reply("roomA@chatroom", "已恢复统计")
        await h.settle("SELECT COUNT(*) FROM memberships", 3)
        await h.wechat_say("roomA@chatroom", XU_WX, "台账已报", sh(16, 12))
        await h.settle("SELECT COUNT(*) FROM messages", 1)
        assert 0 == await h.scalar("SELECT COUNT(*) FROM people WHERE opted_out")
        assert "徐晓明" == await h.scalar(
            "SELECT i.display_name FROM messages m JOIN identities i ON i.id = m.sender_identity_id"
        )
        # The QQ account keeps its pseudonym until it is seen again, or the roster names it.
        assert [("qq",)] == [
            tuple(r)
            for r in await h.rows("SELECT platform FROM identities WHERE external_id LIKE '~%'")
        ]
        path = tmp_path / "roster.csv"
        write_roster(path, ROSTER)
        await load_people(h.engine, replace(h.bot.config, roster=path), sh(16, 13))
        assert [] == await h.rows("SELECT * FROM identities WHERE external_id LIKE '~%'")
        assert {(XU_WX,), (str(XU_QQ),)} == {
            tuple(r)
            for r in await h.rows(
                "SELECT external_id FROM identities WHERE person_id = "
                "(SELECT id FROM people WHERE name = '徐干事')"
            )
        }


async def test_roster_merge_forgets_like_the_command(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """An opt-out given on QQ before the roster knew the person holds for the roster person the
    operator later maps to both accounts: the roster name, the WeChat name and both ids vanish
    from the database and the saved digest, as after 退出统计 itself."""
    roster = [e for e in ROSTER if e.name != "徐干事"]
    db = sqlite_path(db_url)
    assert db is not None
    out_dir = tmp_path / "digests"
    async with running_bot(
        db_url,
        tmp_path,
        clock,
        rooms=ROOMS[:1],
        contacts=CONTACTS,
        roster=roster,
        qq_groups=[QQ_GROUP],
        store_text=True,
    ) as h:
        assert h.peer is not None
        clock.now = sh(15, 20)
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", clock.now)
        await h.peer.post_group_message(8008, 2001, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 2)
        await h.wechat_say("roomA@chatroom", "wx_o", "@徐晓明 请今晚报送台账", sh(16, 21), (XU_WX,))
        await h.wechat_say("roomA@chatroom", XU_WX, "请各位今晚10点前报送台账", sh(16, 21, 30))
        await h.settle("SELECT COUNT(*) FROM messages", 2)
        sent = await deliver_week(h.engine, h.bot.config, h.bot.send_to, WEEK, sh(23, 9))
        assert "徐晓明" in sent[0].body  # the automatic person, under their WeChat name
        await h.peer.post_group_message(8008, XU_QQ, "退出统计", at=sh(23, 10))
        await h.peer.wait_sent(lambda m: "已删除您" in m.text, 10)
        path = tmp_path / "roster.csv"
        write_roster(path, ROSTER)  # the operator adds 徐干事 with both accounts
        await load_people(h.engine, replace(h.bot.config, roster=path), sh(23, 12))
        assert 0 == await h.scalar(
            "SELECT COUNT(*) FROM people WHERE NOT opted_out AND name NOT IN ('欧阳主任', '杨站长')"
        )
        await h.wechat_say("roomA@chatroom", XU_WX, "还在", sh(23, 13))
        await h.settle("SELECT COUNT(*) FROM messages", 3)
        assert 2 == await h.scalar("SELECT COUNT(*) FROM messages WHERE sender_identity_id IS NULL")
        assert [] == privacy_sweep.database_files(db, XU)
        assert [] == privacy_sweep.saved_files(out_dir, XU)[1]
        assert 0 == await h.scalar(
            "SELECT COUNT(*) FROM memberships m JOIN identities i ON i.id = m.identity_id"
            " JOIN people p ON p.id = i.person_id WHERE p.opted_out"
        )


async def test_no_table_cell_names_the_person_on_either_database(
    any_db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """On SQLite and PostgreSQL alike, after 退出统计 no cell of any table holds the person's
    names or ids (the byte-level checks above are SQLite's; this is the same promise in SQL)."""
    from sqlalchemy import MetaData, select

    async with running_bot(
        any_db_url,
        tmp_path,
        clock,
        rooms=ROOMS,
        contacts=CONTACTS,
        roster=ROSTER,
        qq_groups=[QQ_GROUP],
        store_text=True,
    ) as h:
        await _week_with_xu(h, clock)
        await h.wechat_say("roomA@chatroom", XU_WX, "退出统计", sh(23, 10))
        await h.wait_group_reply("roomA@chatroom", "已删除您")
        await h.bot.recorder.flush()
        async with h.engine.connect() as conn:
            meta = MetaData()
            await conn.run_sync(lambda c: meta.reflect(c, views=True))
            cells = [
                str(value)
                for table in meta.sorted_tables
                for row in (await conn.execute(select(table))).all()
                for value in row
            ]
    assert len(cells) > 100
    assert [] == [(t, c) for c in cells for t in XU if t in c]


async def test_head_named_in_the_config_gets_no_digest_after_opting_out(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """A unit head from [[units]] heads who opted out is treated like an opted-out roster head:
    no digest is sent to them and their id is not written into digests.recipient_id."""
    from bot.config import Ref, UnitConfig

    async with running_bot(
        db_url, tmp_path, clock, rooms=ROOMS[:1], contacts=CONTACTS, roster=ROSTER
    ) as h:
        clock.now = sh(15, 20)
        await h.wechat_say("roomA@chatroom", "wx_o", "同意记录", clock.now)
        await h.wechat_say("roomA@chatroom", "wx_o", "@徐晓明 请今晚报送台账", sh(16, 21), (XU_WX,))
        await h.settle("SELECT COUNT(*) FROM messages", 1)
        await h.wechat_say("roomA@chatroom", XU_WX, "退出统计", sh(23, 8))
        await h.wait_group_reply("roomA@chatroom", "已删除您")
        config = replace(
            h.bot.config, units=(UnitConfig("镇党政办", heads=(Ref("wechat", XU_WX),)),)
        )
        sent = await deliver_week(h.engine, config, h.bot.send_to, WEEK, sh(23, 9))
        recipients = [r[0] for r in await h.rows("SELECT recipient_id FROM digests")]
    assert [Ref("wechat", "wx_o")] == [d.recipient for d in sent]
    assert ["wx_o"] == recipients
