"""One cadre in WeChat rooms and QQ groups is one person: groups and pings add up."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.delivery import deliver_week
from bot.roster import RosterEntry
from metrics.calendar import DEFAULT_SCHEDULE
from metrics.db import make_engine
from metrics.digest import build_digest, render_digest
from metrics.queries import person_week
from tests.conftest import Clock
from tests.harness import running_bot

SH = ZoneInfo("Asia/Shanghai")
ROSTER = [
    RosterEntry(
        "王主任", "镇党政办", "党政办", "主任", wechat_id="wx_wang", qq_id="1001", is_head=True
    ),
    RosterEntry("李干事", "镇党政办", "党政办", "干事", wechat_id="wx_li", qq_id="1002"),
    RosterEntry("赵书记", "新河村", "村两委", "村支书", qq_id="1003", is_head=True),
]


async def test_person_on_both_platforms_counted_once(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """李干事 is in one WeChat room and one QQ group: 2 groups, pings from both platforms."""
    async with running_bot(
        db_url,
        tmp_path,
        clock,
        rooms=[("room1@chatroom", "镇党政办工作群", "wx_wang", ["wx_wang", "wx_li"])],
        contacts={"wx_wang": "王主任", "wx_li": "李干事"},
        roster=ROSTER,
        qq_groups=[
            (
                5005,
                "镇网格化管理群",
                [
                    (1001, "王主任", "", "owner"),
                    (1002, "小李", "", "member"),
                    (1003, "赵书记", "", "member"),
                ],
            )
        ],
    ) as h:
        assert h.peer is not None
        clock.now = datetime(2026, 11, 15, 20, tzinfo=SH)
        await h.wechat_say("room1@chatroom", "wx_wang", "同意记录", clock.now)
        await h.peer.post_group_message(5005, 1001, "同意记录", at=clock.now)
        await h.settle("SELECT COUNT(*) FROM groups WHERE state = 'active'", 2)
        evening = datetime(2026, 11, 17, 21, tzinfo=SH)  # a Tuesday evening
        await h.wechat_say("room1@chatroom", "wx_wang", "请今晚报送台账", evening, ("wx_li",))
        await h.peer.post_group_message(5005, 1001, "请上传照片", at_ids=[1002], at=evening)
        await h.peer.post_group_message(5005, 1001, "明早开会", at_all=True, at=evening)
        await h.settle("SELECT COUNT(*) FROM messages", 3)
        assert 1 == await h.scalar("SELECT COUNT(*) FROM people WHERE name = '李干事'")
        sent = await deliver_week(
            h.engine, h.bot.config, h.bot.send_to, "2026-W47", datetime(2026, 11, 23, 1, tzinfo=SH)
        )
        assert {("镇党政办", "wechat", "sent"), ("新河村", "qq", "sent")} == {
            (d.unit, d.recipient.platform, d.status) for d in sent
        }
        to_zhao = [m for m in h.peer.sent if m.action == "send_private_msg" and m.target_id == 1003]
        assert to_zhao[0].text.startswith("【减负周报】新河村")
        png = base64.b64decode(to_zhao[1].images[0].removeprefix("base64://"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = {r.name: r for r in person_week(conn, "2026-W47", "Asia/Shanghai")}
        body = render_digest(build_digest(conn, "2026-W47", DEFAULT_SCHEDULE, "镇党政办"))
    engine.dispose()
    li = rows["李干事"]
    assert (2, "qq,wechat", 3, 2, 1) == (
        li.groups,
        li.platforms,
        li.received,
        li.pings_off_hours,
        li.pings_all_off_hours,
    )
    assert {"王主任", "李干事", "赵书记"} == set(rows)
    assert "覆盖 2 人" in body
    assert "李干事：2 个群" in body
