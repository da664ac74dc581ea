"""Ack load, after-hours senders, repeated demands, short deadlines and group hygiene from SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, Engine, insert, update

from metrics.burden import ack_load, after_hours_senders, person_ack_load, personal_ack_lines
from metrics.calendar import DEFAULT_SCHEDULE, WorkingCalendar, iso_week
from metrics.db import make_engine
from metrics.fingerprint import DEFAULT_MAX_DISTANCE, fingerprint, hamming
from metrics.hygiene_queries import HygieneSettings, group_hygiene
from metrics.models import Group, Identity, Membership, Message, MessageMention, Person
from metrics.repeat_queries import repeated_demands, short_deadlines, working_hours_between

SH = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"
WEEK = "2025-W47"  # Monday 2025-11-17 to Sunday 2025-11-23, no holidays


def sh(mo: int, d: int, h: int, mi: int = 0, y: int = 2025) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


class World:
    """Rows inserted straight into a migrated database, with band and week from the calendar."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cal = WorkingCalendar(DEFAULT_SCHEDULE)
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def person(
        self,
        name: str,
        unit: str = "镇党政办",
        department: str | None = "党政办",
        *,
        opted_out: bool = False,
        self_reported: int | None = None,
    ) -> int:
        """A person with one WeChat identity; returns the identity id."""
        pid = self.conn.execute(
            insert(Person)
            .values(
                name=name,
                unit=unit,
                department=department,
                opted_out=opted_out,
                self_reported_groups=self_reported,
            )
            .returning(Person.id)
        ).scalar_one()
        return int(
            self.conn.execute(
                insert(Identity)
                .values(
                    platform="wechat",
                    external_id=f"wx_{self._next()}",
                    display_name=name,
                    person_id=pid,
                    first_seen=sh(1, 1, 0),
                )
                .returning(Identity.id)
            ).scalar_one()
        )

    def group(
        self,
        name: str,
        members: list[int],
        *,
        unit: str | None = None,
        consented: datetime | None = None,
        end_date: datetime | None = None,
    ) -> int:
        consented = consented or sh(1, 1, 0)
        gid = self.conn.execute(
            insert(Group)
            .values(
                platform="wechat",
                external_id=f"room{self._next()}@chatroom",
                name=name,
                unit=unit,
                state="active",
                first_seen=consented,
                consented_at=consented,
                end_date=end_date,
            )
            .returning(Group.id)
        ).scalar_one()
        for identity in members:
            self.conn.execute(
                insert(Membership).values(group_id=gid, identity_id=identity, joined_at=consented)
            )
        return int(gid)

    def msg(
        self,
        group: int,
        sender: int | None,
        at: datetime,
        *,
        demand: bool = False,
        ack: bool = False,
        labels: tuple[str, ...] = (),
        mention_all: bool = False,
        mentions: tuple[int, ...] = (),
        text: str | None = None,
        deadline: datetime | None = None,
    ) -> int:
        mid = self.conn.execute(
            insert(Message)
            .values(
                platform="wechat",
                platform_msg_id=f"m{self._next()}",
                group_id=group,
                sender_identity_id=sender,
                sent_at=at,
                week=iso_week(at, TZ),
                band=self.cal.band(at),
                mention_all=mention_all,
                mention_count=len(mentions),
                labels=",".join(sorted(labels)),
                is_demand=demand,
                is_ack=ack,
                deadline_at=deadline,
                fingerprint=fingerprint(text) if text else None,
            )
            .returning(Message.id)
        ).scalar_one()
        for identity in mentions:
            self.conn.execute(insert(MessageMention).values(message_id=mid, identity_id=identity))
        return int(mid)


@pytest.fixture
def engine(any_db_url: str) -> Iterator[Engine]:
    """An engine on a migrated SQLite file, and on PostgreSQL when it runs."""
    eng = make_engine(any_db_url)
    yield eng
    eng.dispose()


# --- acknowledgements ---------------------------------------------------------------------


def ack_world(w: World) -> dict[str, int]:
    a = w.person("安主任")
    b = w.person("白干事")
    c = w.person("陈站长", unit="新河村", department="村两委")
    gone = w.person("隐身者", opted_out=True)
    g = w.group("镇党政办工作群", [a, b, c, gone])
    h = w.group("镇防汛工作群", [b, c])
    # Sunday 22:00 of the week before: answered on Monday 07:00, inside the 24 h lookback.
    w.msg(g, a, sh(11, 16, 22), demand=True, mention_all=True)
    w.msg(g, b, sh(11, 17, 7), ack=True, labels=("ack_reply",))  # 9 h, night
    w.msg(g, a, sh(11, 17, 10), demand=True, labels=("roll_call",), mention_all=True)
    w.msg(g, b, sh(11, 17, 10, 1), ack=True, labels=("ack_reply",))  # 60 s
    w.msg(g, c, sh(11, 17, 10, 30), ack=True, labels=("ack_reply",))  # 1800 s
    w.msg(g, None, sh(11, 17, 10, 31), ack=True, labels=("ack_reply",))  # opted out
    w.msg(g, a, sh(11, 17, 20), demand=True, mentions=(b,))
    w.msg(g, b, sh(11, 17, 20, 5), ack=True, labels=("ack_reply",))  # 300 s, evening
    w.msg(g, a, sh(11, 18, 9), demand=True, mentions=(b,))
    w.msg(g, b, sh(11, 18, 9, 20), ack=True, labels=("ack_reply",))  # 1200 s
    w.msg(h, b, sh(11, 19, 15), ack=True, labels=("ack_reply",))  # nothing to answer
    return {"a": a, "b": b, "c": c}


def test_ack_load_counts_latency_roll_calls_and_after_hours(engine: Engine) -> None:
    """Acks, roll-calls joined, after-hours acks and median/p90 latency match a hand count."""
    with engine.begin() as conn:
        ack_world(World(conn))
    with engine.connect() as conn:
        loads = {a.name: a for a in ack_load(conn, WEEK, TZ)}
    assert ["白干事", "陈站长"] == sorted(loads)
    b = loads["白干事"]
    # delays 60, 300, 1200, 32400: median (300 + 1200) / 2; p90 at rank 2.7.
    assert (5, 4, 1, 2) == (b.acks, b.linked, b.roll_calls, b.acks_off_hours)
    assert 750.0 == b.median_seconds
    assert pytest.approx(1200 + 0.7 * (32400 - 1200)) == b.p90_seconds
    c = loads["陈站长"]
    assert (1, 1, 1, 0, 1800.0, 1800.0) == (
        c.acks,
        c.linked,
        c.roll_calls,
        c.acks_off_hours,
        c.median_seconds,
        c.p90_seconds,
    )


def test_ack_load_lookback_zero_drops_last_weeks_demand(engine: Engine) -> None:
    """Without a lookback the Monday-morning ack to Sunday's demand is left unlinked."""
    with engine.begin() as conn:
        ack_world(World(conn))
    with engine.connect() as conn:
        b = next(a for a in ack_load(conn, WEEK, TZ, lookback=timedelta(0)) if a.name == "白干事")
    assert (5, 3) == (b.acks, b.linked)


def test_person_ack_load_and_unit_filter(engine: Engine) -> None:
    """person_ack_load gives one person's figures; a unit filter keeps only that unit's people."""
    with engine.begin() as conn:
        ids = ack_world(World(conn))
    with engine.connect() as conn:
        pid_b = conn.exec_driver_sql(
            f"SELECT person_id FROM identities WHERE id = {ids['b']}"
        ).scalar_one()
        pid_a = conn.exec_driver_sql(
            f"SELECT person_id FROM identities WHERE id = {ids['a']}"
        ).scalar_one()
        mine = person_ack_load(conn, pid_b, WEEK, TZ)
        nothing = person_ack_load(conn, pid_a, WEEK, TZ)
        village = ack_load(conn, WEEK, TZ, "新河村")
    assert mine is not None and 5 == mine.acks
    assert nothing is None
    assert ["陈站长"] == [a.name for a in village]
    assert [
        "· 回复“收到”类消息 5 次，其中非工作时间 2 次，参加接龙 1 次",
        "· 回复用时中位 12 分钟，九成在 6.4 小时内",
    ] == personal_ack_lines(mine)
    assert ["· 本周没有回复“收到”类消息"] == personal_ack_lines(nothing)


# --- senders ------------------------------------------------------------------------------


def test_after_hours_senders_by_person_and_department(engine: Engine) -> None:
    """After-hours demands rank senders and departments; opted-out senders are only a count."""
    with engine.begin() as conn:
        w = World(conn)
        a = w.person("安主任")
        d = w.person("邓科长", unit="县农业局", department="粮油科")
        e = w.person("鄂科员", unit="县农业局", department="粮油科")
        gone = w.person("隐身者", opted_out=True)
        g = w.group("镇党政办工作群", [a, d, e, gone])
        w.msg(g, a, sh(11, 17, 10), demand=True)  # working time
        w.msg(g, a, sh(11, 17, 21), demand=True, mention_all=True)  # evening
        w.msg(g, d, sh(11, 18, 23), demand=True)  # night
        w.msg(g, d, sh(11, 22, 10), demand=True)  # Saturday
        w.msg(g, e, sh(11, 19, 12, 30), demand=True)  # lunch
        w.msg(g, None, sh(11, 19, 22, 30), demand=True)
        w.msg(g, gone, sh(11, 20, 22, 30), demand=True)  # a stray row still pointing at them
    with engine.connect() as conn:
        report = after_hours_senders(conn, WEEK)
    assert [("邓科长", 2, 2, 0), ("安主任", 2, 1, 1), ("鄂科员", 1, 1, 0)] == [
        (s.name, s.demands, s.demands_off_hours, s.mention_all_off_hours) for s in report.people
    ]
    assert [("县农业局", "粮油科", 2, 3), ("镇党政办", "党政办", 1, 1)] == [
        (x.unit, x.department, x.senders, x.demands_off_hours) for x in report.departments
    ]
    assert 2 == report.anonymous_off_hours
    assert 6 == report.off_hours_total


# --- repeated demands and deadlines ---------------------------------------------------------

NOTICE = "请各村于周五前报送秋粮收购进度台账"
NOTICE_AGAIN = "转：请各村于周五前报送秋粮收购进度台账！"
OTHER = "明早8点前上报各水库水位"


def test_repeat_across_groups_and_departments_found_and_a_single_demand_not(
    engine: Engine,
) -> None:
    """A notice re-sent in a second group by another department is one R6 finding."""
    assert hamming(fingerprint(NOTICE), fingerprint(NOTICE_AGAIN)) <= DEFAULT_MAX_DISTANCE
    assert hamming(fingerprint(NOTICE), fingerprint(OTHER)) > DEFAULT_MAX_DISTANCE
    with engine.begin() as conn:
        w = World(conn)
        x = w.person("徐干事", department="党政办")
        y = w.person("杨股长", unit="县农业局", department="粮油科")
        gone = w.person("隐身者", opted_out=True)
        g1 = w.group("镇党政办工作群", [x, gone])
        g2 = w.group("县农业局联络群", [y, x])
        w.msg(g1, x, sh(11, 18, 9), demand=True, text=NOTICE)
        w.msg(g2, y, sh(11, 19, 16), demand=True, text=NOTICE_AGAIN)
        w.msg(g2, gone, sh(11, 20, 9), demand=True, text=NOTICE)
        w.msg(g1, x, sh(11, 20, 10), demand=True, text=OTHER)
        # Three weeks earlier: outside the 7-day window, so it joins nothing.
        w.msg(g1, y, sh(10, 28, 9), demand=True, text=NOTICE)
    with engine.connect() as conn:
        found = repeated_demands(conn, WEEK, TZ)
        wide = repeated_demands(conn, WEEK, TZ, window_days=30)
    assert 1 == len(found)
    r = found[0]
    assert (3, ("县农业局联络群", "镇党政办工作群")) == (r.count, r.groups)
    assert ("徐干事", "杨股长", "匿名") == r.senders
    assert ("党政办", "粮油科") == r.departments
    assert (sh(11, 18, 9), sh(11, 20, 9)) == (r.first_at, r.last_at)
    assert "R6" == r.rule
    assert [4] == [c.count for c in wide]


def test_repeat_outside_the_unit_is_not_reported(engine: Engine) -> None:
    """A repeat in groups without any member of the unit stays out of that unit's findings."""
    with engine.begin() as conn:
        w = World(conn)
        x = w.person("徐干事", unit="新河村")
        y = w.person("杨股长", unit="县农业局")
        w.person("欧阳主任")
        g1 = w.group("新河村工作群", [x])
        g2 = w.group("农业局群", [y])
        w.msg(g1, x, sh(11, 18, 9), demand=True, text=NOTICE)
        w.msg(g2, y, sh(11, 19, 9), demand=True, text=NOTICE)
    with engine.connect() as conn:
        assert 1 == len(repeated_demands(conn, WEEK, TZ, "新河村"))
        assert [] == repeated_demands(conn, WEEK, TZ, "镇党政办")


@pytest.mark.parametrize(
    ("sent", "due", "hours"),
    [
        (sh(11, 21, 16), sh(11, 24, 10), 3.0),  # Friday afternoon for Monday 10:00
        (sh(11, 17, 9), sh(11, 18, 9), 7.0),  # a full day
        (sh(11, 17, 21), sh(11, 18, 8, 30), 0.0),  # tonight for tomorrow's opening
        (sh(11, 17, 11), sh(11, 17, 15), 2.0),  # across the lunch break
        (sh(9, 30, 16), sh(10, 9, 9), 2.0 + 0.5),  # summer afternoon, National Day, 9 Oct
        (sh(11, 18, 9), sh(11, 17, 9), 0.0),  # deadline before the message
    ],
)
def test_working_hours_between(sent: datetime, due: datetime, hours: float) -> None:
    """Office hours between two moments skip nights, lunch, weekends and holidays."""
    assert hours == working_hours_between(WorkingCalendar(DEFAULT_SCHEDULE), sent, due)


def test_short_deadlines_under_one_working_day(engine: Engine) -> None:
    """Demands due within less than 7 office hours are R6 findings; a full day is not."""
    with engine.begin() as conn:
        w = World(conn)
        x = w.person("徐干事")
        gone = w.person("隐身者", opted_out=True)
        g = w.group("镇党政办工作群", [x, gone])
        w.msg(g, x, sh(11, 17, 9), demand=True, deadline=sh(11, 18, 9))
        w.msg(g, x, sh(11, 17, 21), demand=True, deadline=sh(11, 18, 8, 30))
        w.msg(g, gone, sh(11, 21, 16), demand=True, deadline=sh(11, 24, 10))
        w.msg(g, x, sh(11, 19, 9), demand=True, deadline=sh(11, 19, 8))  # a parse slip
    with engine.connect() as conn:
        found = short_deadlines(conn, WEEK, DEFAULT_SCHEDULE)
        strict = short_deadlines(conn, WEEK, DEFAULT_SCHEDULE, min_hours=8)
    assert [("徐干事", 0.0), ("匿名", 3.0)] == [(s.sender, s.working_hours) for s in found]
    assert 3 == len(strict)


# --- hygiene -------------------------------------------------------------------------------


def test_group_hygiene_dormant_overlap_caps_and_self_reports(engine: Engine) -> None:
    """Dormant, ended and overlapping groups, over-cap people and units, self-reports."""
    with engine.begin() as conn:
        w = World(conn)
        ids = [w.person(f"成员{i}", self_reported=12 if i == 0 else None) for i in range(6)]
        gone = w.person("隐身者", opted_out=True)
        big = w.group("镇党政办工作群", [*ids, gone], unit="镇党政办")
        copy = w.group("镇党政办通知群", ids[:5], unit="镇党政办")
        idle = w.group("迎检专班群", [*ids[:2], gone], unit="镇党政办")
        never = w.group("防疫专班群", ids[:2], consented=sh(10, 1, 9))
        ended = w.group("秋收专项群", ids[:3], end_date=sh(11, 20, 0))
        w.group("已停止的群", ids, consented=sh(11, 1, 0))
        conn.execute(
            update(Group)
            .where(Group.name == "已停止的群")
            .values(stopped_at=sh(11, 10, 0), state="stopped")
        )
        for g in (big, copy, ended):
            w.msg(g, ids[0], sh(11, 18, 10))
        w.msg(idle, ids[1], sh(11, 1, 10))  # 22 days before the week's end
        assert never
    with engine.connect() as conn:
        h = group_hygiene(conn, WEEK, TZ, settings=HygieneSettings(person_cap=4, unit_cap=2))
    assert [("防疫专班群", None, 53), ("迎检专班群", sh(11, 1, 10), 22)] == [
        (d.group.name, d.last_message_at, d.idle_days) for d in h.dormant
    ]
    assert ["秋收专项群"] == [e.group.name for e in h.ended]
    assert [("镇党政办工作群", "镇党政办通知群", 1.0, 5)] == [
        (o.a.name, o.b.name, o.overlap, o.shared) for o in h.overlapping
    ]
    assert [("成员0", 5), ("成员1", 5)] == [(p.name, p.monitored) for p in h.people_over_cap]
    assert [("镇党政办", 3)] == [(u.unit, u.groups) for u in h.units_over_cap]
    assert [("成员0", 12, 5)] == [(p.name, p.self_reported, p.monitored) for p in h.self_reported]
    names = {g.group.name for g in h.dormant} | {p.name for p in h.people_over_cap}
    assert "隐身者" not in names and "已停止的群" not in names


def test_group_hygiene_defaults_find_nothing_in_a_tidy_unit(engine: Engine) -> None:
    """One busy group of a unit gives no finding under the default thresholds."""
    with engine.begin() as conn:
        w = World(conn)
        ids = [w.person(f"成员{i}") for i in range(6)]
        g = w.group("镇党政办工作群", ids, unit="镇党政办")
        w.msg(g, ids[0], sh(11, 21, 10))
    with engine.connect() as conn:
        h = group_hygiene(conn, WEEK, TZ, "镇党政办")
    assert h.empty


def test_ack_load_counts_a_roll_call_once_per_person(engine: Engine) -> None:
    """Posting the 接龙 list twice (a corrected line) joins the roll call once."""
    with engine.begin() as conn:
        w = World(conn)
        a, b = w.person("安主任"), w.person("白干事")
        g = w.group("镇党政办工作群", [a, b])
        w.msg(g, a, sh(11, 18, 9), demand=True, labels=("roll_call",))
        w.msg(g, b, sh(11, 18, 9, 5), ack=True, labels=("ack_reply",))
        w.msg(g, b, sh(11, 18, 9, 8), ack=True, labels=("ack_reply",))
    with engine.connect() as conn:
        load = next(x for x in ack_load(conn, WEEK, TZ) if x.name == "白干事")
    assert (2, 2, 1) == (load.acks, load.linked, load.roll_calls)


def test_ack_load_window_in_working_time(engine: Engine) -> None:
    """With the unit's calendar, a Friday-evening demand answered on Monday is linked."""
    with engine.begin() as conn:
        w = World(conn)
        a, b = w.person("安主任"), w.person("白干事")
        g = w.group("镇党政办工作群", [a, b])
        w.msg(g, a, sh(11, 21, 18), demand=True)  # Friday 18:00
        w.msg(g, b, sh(11, 23, 20), ack=True, labels=("ack_reply",))  # Sunday 20:00, 50 h on
    with engine.connect() as conn:
        wall = next(x for x in ack_load(conn, WEEK, TZ) if x.name == "白干事")
        working = next(
            x for x in ack_load(conn, WEEK, TZ, calendar=WorkingCalendar()) if x.name == "白干事"
        )
    assert (0, 1) == (wall.linked, working.linked)
