"""A small township week (2026-W47) written with SQLAlchemy Core, for the inspector tools' tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert

from metrics.calendar import WorkingCalendar, iso_week
from metrics.fingerprint import fingerprint
from metrics.models import AuditEvent, Group, Identity, Membership, Message, MessageMention, Person

WEEK = "2026-W47"
TZ = ZoneInfo("Asia/Shanghai")
# The opted-out cadre's former name: left in the people row on purpose (as if a
# roster re-import had written it back), so the views' own masking is what is tested.
OPTED_OUT_NAME = "赵敏"
# The moment the rows are "now" for: Saturday of week 47, local noon.
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=TZ)

PEOPLE = (
    # name, unit, department, title, head
    ("王建国", "镇党政办", "党政办", "党政办主任", True),
    ("李秀英", "镇党政办", "党政办", "文书", False),
    ("张伟", "镇农业农村办", "农业农村办", "农技员", False),
    ("刘芳", "镇应急办", "应急办", "防汛专干", False),
    ("陈静", "镇社会事务办", "社会事务办", "民政专干", False),
    (OPTED_OUT_NAME, "镇党政办", "党政办", "综合干事", False),
)
GROUPS = (
    # name, platform, unit, state, last message days before NOW (None: computed)
    ("镇党政办工作群", "wechat", "镇党政办", "active"),
    ("农业农村办通知群", "wechat", "镇农业农村办", "active"),
    ("森林防火专项工作群", "qq", "镇应急办", "active"),
    ("乡村振兴报表群", "qq", "镇农业农村办", "stopped"),
)
# Who is in which group (indexes into PEOPLE); the last person opted out but
# keeps a stray membership, again to test masking rather than clean-up.
MEMBERS = {0: (0, 1, 2, 3, 4, 5), 1: (0, 1, 2, 3, 4), 2: (0, 3, 4), 3: (1, 2)}

DEMAND = "请各村于今天下班前报送秋冬季森林防火排查台账，收到请回复"


@dataclass(frozen=True)
class Sample:
    """Ids of the rows a test wants to point at."""

    people: dict[str, int]
    groups: dict[str, int]
    identities: dict[str, int]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local moment on a day of November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def populate(conn: Connection) -> Sample:
    """Write the sample rows into a migrated database and return their ids."""
    cal = WorkingCalendar()
    people: dict[str, int] = {}
    idents: dict[str, int] = {}
    for n, (name, unit, dept, title, head) in enumerate(PEOPLE):
        opted = name == OPTED_OUT_NAME
        pid = conn.execute(
            insert(Person)
            .values(
                name=name,
                unit=unit,
                department=dept,
                title=title,
                is_head=head,
                source="roster",
                opted_out=opted,
                opted_out_at=NOW if opted else None,
            )
            .returning(Person.id)
        ).scalar_one()
        people[name] = pid
        idents[name] = conn.execute(
            insert(Identity)
            .values(
                platform="wechat",
                external_id=f"wxid_{n:04d}",
                display_name=name,
                person_id=pid,
                first_seen=_at(1, 9),
            )
            .returning(Identity.id)
        ).scalar_one()
    groups: dict[str, int] = {}
    for n, (name, platform, unit, state) in enumerate(GROUPS):
        groups[name] = conn.execute(
            insert(Group)
            .values(
                platform=platform,
                external_id=f"g{n}@chatroom",
                name=name,
                unit=unit,
                state=state,
                first_seen=_at(1, 9),
                consented_at=_at(2, 10),
                consented_by=f"wxid_{0:04d}",
                stopped_at=_at(10, 9) if state == "stopped" else None,
                end_date=_at(15, 0) if name == "森林防火专项工作群" else None,
            )
            .returning(Group.id)
        ).scalar_one()
    names = list(people)
    for g, members in MEMBERS.items():
        for m in members:
            conn.execute(
                insert(Membership).values(
                    group_id=groups[GROUPS[g][0]],
                    identity_id=idents[names[m]],
                    joined_at=_at(2, 10),
                )
            )

    seq = 0

    def message(
        group: str,
        sender: str | None,
        at: datetime,
        *,
        text: str = "好的",
        demand: bool = False,
        labels: str = "",
        mention_all: bool = False,
        mentions: tuple[str, ...] = (),
        deadline: datetime | None = None,
    ) -> int:
        nonlocal seq
        seq += 1
        mid = conn.execute(
            insert(Message)
            .values(
                platform="wechat",
                platform_msg_id=f"m{seq}",
                group_id=groups[group],
                sender_identity_id=idents[sender] if sender else None,
                sent_at=at,
                week=iso_week(at),
                band=cal.band(at),
                length=len(text),
                mention_all=mention_all,
                mention_count=len(mentions),
                labels=labels,
                is_demand=demand,
                is_ack=text in ("收到", "1"),
                deadline_at=deadline,
                fingerprint=fingerprint(text) if demand else None,
                text=text,
            )
            .returning(Message.id)
        ).scalar_one()
        for who in mentions:
            conn.execute(insert(MessageMention).values(message_id=mid, identity_id=idents[who]))
        return mid

    office, agri, fire = (g[0] for g in GROUPS[:3])
    # Monday evening: the office head asks for a ledger by tonight, @所有人.
    message(
        office,
        "王建国",
        _at(16, 20, 30),
        text=DEMAND,
        demand=True,
        labels="ack,deadline,material",
        mention_all=True,
        deadline=_at(16, 23, 0),
    )
    # Tuesday evening: the same demand again, in another group, by another sender.
    message(
        agri,
        "张伟",
        _at(17, 21, 15),
        text=DEMAND,
        demand=True,
        labels="ack,deadline,material",
        mention_all=True,
        deadline=_at(17, 23, 0),
    )
    # Late-night pings of named people.
    message(
        fire,
        "刘芳",
        _at(18, 23, 5),
        text="@陈静 @王建国 请马上上传巡山照片",
        demand=True,
        labels="proof,urgent",
        mentions=("陈静", "王建国"),
    )
    message(
        office,
        "李秀英",
        _at(19, 22, 40),
        text="@王建国 明早8点前把材料发我",
        demand=True,
        labels="deadline,material",
        mentions=("王建国",),
        deadline=_at(20, 8, 0),
    )
    # Saturday pings, including one of the opted-out cadre (must be masked).
    message(
        office,
        "王建国",
        _at(21, 10, 0),
        text="@赵敏 @李秀英 周末加个班",
        mentions=(OPTED_OUT_NAME, "李秀英"),
    )
    # A message still pointing at the opted-out sender (masking, not clean-up, is tested).
    message(office, OPTED_OUT_NAME, _at(21, 10, 5), text="我是赵敏，收到")
    # Working-time chatter and acknowledgements.
    for day in (16, 17, 18):
        message(office, "李秀英", _at(day, 9, 30), text="今天上午开会")
        message(agri, "陈静", _at(day, 15, 0), text="收到")
    # An anonymous (opted-out sender) message at night.
    message(office, None, _at(20, 23, 30), text="1")

    conn.execute(
        insert(AuditEvent).values(
            at=_at(2, 10),
            platform="wechat",
            group_id=groups[office],
            actor_identity_id=idents["王建国"],
            action="consent",
            outcome="ok",
            detail="同意监测",
        )
    )
    conn.execute(
        insert(AuditEvent).values(
            at=_at(20, 9),
            platform="wechat",
            group_id=groups[office],
            actor_identity_id=idents[OPTED_OUT_NAME],
            action="opt_out",
            outcome="ok",
            detail="",
        )
    )
    conn.execute(
        insert(AuditEvent).values(
            at=NOW - timedelta(days=40),
            platform="qq",
            group_id=None,
            actor_identity_id=None,
            action="consent",
            outcome="refused",
            detail="非群主",
        )
    )
    return Sample(people=people, groups=groups, identities=idents)
