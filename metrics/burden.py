"""Acknowledgement load and after-hours senders per ISO week, from the database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import BindParameter, Boolean, Connection, Integer, String, bindparam, text

from metrics.acks import (
    DEFAULT_WINDOW,
    AckItem,
    ack_delays,
    latency_stats,
    link_acks,
    wall_clock,
)
from metrics.calendar import WorkingCalendar, week_bounds
from metrics.models import UTCDateTime
from metrics.queries import scope_sql
from metrics.working_time import working_time

__all__ = [
    "ANONYMOUS",
    "DEFAULT_LOOKBACK",
    "AckLoad",
    "DepartmentSenders",
    "SenderLoad",
    "SendersReport",
    "ack_load",
    "after_hours_senders",
    "duration_zh",
    "person_ack_load",
    "personal_ack_lines",
    "scope_sql",
]

# How a sender who opted out (or is unknown) is shown: never by name.
ANONYMOUS = "匿名"
# Demands sent this long before the week starts can still be answered in it.
DEFAULT_LOOKBACK = timedelta(hours=24)


def _moments(*names: str) -> list[BindParameter[Any]]:
    return [bindparam(n, type_=UTCDateTime()) for n in names]


@dataclass(frozen=True, slots=True)
class AckLoad:
    """One person's acknowledgements in a week (收到, 1, 接龙 lines ...)."""

    person_id: int
    name: str
    unit: str | None
    department: str | None
    acks: int  # every ack sent in the week, linked to a demand or not
    roll_calls: int  # acks answering a roll-call (接龙) demand
    acks_off_hours: int  # acks sent outside working time
    linked: int  # acks linked to a demand, the base of the latency figures
    median_seconds: float | None
    p90_seconds: float | None
    delays_seconds: tuple[float, ...]  # of the linked acks, to pool a unit's latency


_ACK_MESSAGES = """
SELECT m.id, m.group_id, m.sent_at, m.band, m.is_demand, m.is_ack, m.labels, m.mention_all,
       si.person_id AS sender
FROM messages m
LEFT JOIN identities si ON si.id = m.sender_identity_id
WHERE m.sent_at >= :since AND m.sent_at < :end
  AND (m.is_demand OR m.is_ack OR m.labels LIKE :roll_call)
ORDER BY m.sent_at, m.id
"""

_ACK_MENTIONS = """
SELECT mm.message_id, i.person_id
FROM message_mentions mm
JOIN messages m ON m.id = mm.message_id
JOIN identities i ON i.id = mm.identity_id
WHERE m.sent_at >= :since AND m.sent_at < :end AND (m.is_demand OR m.labels LIKE :roll_call)
"""

_PEOPLE = """
SELECT p.id, p.name, p.unit, p.department FROM people p WHERE NOT p.opted_out
"""


def ack_load(
    conn: Connection,
    week: str,
    tz: str,
    unit: str | None = None,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
    window: timedelta = DEFAULT_WINDOW,
    person_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[AckLoad]:
    """Acks per person who sent any in ``week`` (of ``unit``), most acks first.

    Acks are linked to demands with metrics.acks.link_acks over every group's demands
    and acks from ``lookback`` before the week start to its end, so a Sunday-night
    demand answered on Monday morning counts; an ack answers a demand at most
    ``window`` old (24 h, metrics.acks.DEFAULT_WINDOW). Senders are keyed by person, so a
    person's WeChat and QQ accounts are one replier; opted-out senders are stored
    without identity and are left out (each anonymous message gets its own key, so
    it is never taken for someone's own demand). With a ``calendar`` the window is
    working time under it (metrics.working_time); a roll call counts once per person.
    """
    start, end = week_bounds(week, tz)
    params = {"since": start - lookback, "end": end, "roll_call": "%roll_call%"}
    stmt = (
        text(_ACK_MESSAGES)
        .bindparams(*_moments("since", "end"))
        .columns(
            id=Integer(),
            group_id=Integer(),
            sent_at=UTCDateTime(),
            band=String(),
            is_demand=Boolean(),
            is_ack=Boolean(),
            labels=String(),
            mention_all=Boolean(),
            sender=Integer(),
        )
    )
    rows = conn.execute(stmt, params).all()
    mentions: dict[int, set[str]] = defaultdict(set)
    for msg_id, pid in conn.execute(
        text(_ACK_MENTIONS).bindparams(*_moments("since", "end")), params
    ).all():
        mentions[msg_id].add(str(pid))
    items = [
        AckItem(
            key=r.id,
            group_key=str(r.group_id),
            sender_key=str(r.sender) if r.sender is not None else f"anon:{r.id}",
            at=r.sent_at,
            is_demand=bool(r.is_demand),
            is_ack=bool(r.is_ack),
            is_roll_call="roll_call" in (r.labels or "").split(","),
            mention_all=bool(r.mention_all),
            mentions=frozenset(mentions.get(r.id, ())),
        )
        for r in rows
    ]
    clock = working_time(calendar) if calendar is not None else wall_clock
    links = link_acks(items, window, elapsed=clock)
    delays = ack_delays(items, links)
    by_key = {item.key: item for item in items}
    per_person: dict[int, list[tuple[AckItem, bool]]] = defaultdict(list)
    for r in rows:
        if r.is_ack and r.sender is not None and r.sent_at >= start:
            per_person[r.sender].append((by_key[r.id], r.band != "work"))
    people_sql = _PEOPLE + ("" if unit is None else " AND p.unit = :unit")
    people = conn.execute(text(people_sql), {"unit": unit}).all()
    out: list[AckLoad] = []
    for p in people:
        if p.id not in per_person or (person_id is not None and p.id != person_id):
            continue
        acks = per_person[p.id]
        linked = [a.key for a, _ in acks if a.key in links]
        stats = latency_stats([delays[k] for k in linked])
        out.append(
            AckLoad(
                person_id=p.id,
                name=p.name,
                unit=p.unit,
                department=p.department,
                acks=len(acks),
                # once per roll call, however often the person posted the list
                roll_calls=len({links[k] for k in linked if by_key[links[k]].is_roll_call}),
                acks_off_hours=sum(1 for _, off in acks if off),
                linked=len(linked),
                median_seconds=stats[0] if stats else None,
                p90_seconds=stats[1] if stats else None,
                delays_seconds=tuple(delays[k] for k in linked),
            )
        )
    out.sort(key=lambda a: (-a.acks, -a.acks_off_hours, a.name, a.person_id))
    return out


def person_ack_load(
    conn: Connection,
    person_id: int,
    week: str,
    tz: str,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
    window: timedelta = DEFAULT_WINDOW,
) -> AckLoad | None:
    """One person's ack figures for the personal summary; None if they sent no ack or opted out."""
    found = ack_load(conn, week, tz, lookback=lookback, window=window, person_id=person_id)
    return found[0] if found else None


def duration_zh(seconds: float) -> str:
    """A delay in Chinese at a sensible unit: 45 秒, 12 分钟, 2.5 小时."""
    if seconds < 60:
        return f"{round(seconds)} 秒"
    if seconds < 3600:
        return f"{round(seconds / 60)} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def personal_ack_lines(load: AckLoad | None) -> list[str]:
    """Lines for the 我的负担 summary (metrics.personal): this person's acks only."""
    if load is None:
        return ["· 本周没有回复“收到”类消息"]
    lines = [
        f"· 回复“收到”类消息 {load.acks} 次，其中非工作时间 {load.acks_off_hours} 次，"
        f"参加接龙 {load.roll_calls} 次"
    ]
    if load.median_seconds is not None and load.p90_seconds is not None:
        lines.append(
            f"· 回复用时中位 {duration_zh(load.median_seconds)}，"
            f"九成在 {duration_zh(load.p90_seconds)}内"
        )
    return lines


@dataclass(frozen=True, slots=True)
class SenderLoad:
    """Demands one person sent in the week, and how many outside working time."""

    person_id: int
    name: str
    unit: str | None
    department: str | None
    demands: int
    demands_off_hours: int
    mention_all_off_hours: int  # after-hours messages (any kind) with @所有人


@dataclass(frozen=True, slots=True)
class DepartmentSenders:
    """After-hours demands summed over the senders of one unit and department."""

    unit: str | None
    department: str | None
    senders: int
    demands: int
    demands_off_hours: int


@dataclass(frozen=True, slots=True)
class SendersReport:
    people: list[SenderLoad]  # most after-hours demands first
    departments: list[DepartmentSenders]
    anonymous_off_hours: int  # after-hours demands from opted-out senders: a count only

    @property
    def off_hours_total(self) -> int:
        return sum(p.demands_off_hours for p in self.people) + self.anonymous_off_hours


_SENDERS = """
SELECT si.person_id AS pid,
       SUM(CASE WHEN m.is_demand THEN 1 ELSE 0 END) AS demands,
       SUM(CASE WHEN m.is_demand AND m.band <> 'work' THEN 1 ELSE 0 END) AS demands_off,
       SUM(CASE WHEN m.mention_all AND m.band <> 'work' THEN 1 ELSE 0 END) AS all_off
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
WHERE m.week = :week AND (m.is_demand OR m.mention_all) AND {scope}
GROUP BY si.person_id
"""


def after_hours_senders(conn: Connection, week: str, unit: str | None = None) -> SendersReport:
    """Who sends demands outside working time into ``unit``'s groups, by person and department.

    Senders may belong to any unit (a county office loading a township is the point);
    people who opted out are summed into ``anonymous_off_hours`` and never named.
    """
    sql = _SENDERS.format(scope=scope_sql("g", unit))
    rows = conn.execute(text(sql), {"week": week, "unit": unit}).all()
    info = {
        p.id: p
        for p in conn.execute(
            text("SELECT id, name, unit, department, opted_out FROM people")
        ).all()
    }
    people: list[SenderLoad] = []
    anonymous = 0
    for r in rows:
        p = info.get(r.pid) if r.pid is not None else None
        if p is None or p.opted_out:
            anonymous += int(r.demands_off or 0)
            continue
        if not (r.demands or r.all_off):
            continue
        people.append(
            SenderLoad(
                p.id,
                p.name,
                p.unit,
                p.department,
                int(r.demands or 0),
                int(r.demands_off or 0),
                int(r.all_off or 0),
            )
        )
    people.sort(key=lambda s: (-s.demands_off_hours, -s.mention_all_off_hours, -s.demands, s.name))
    sums: dict[tuple[str | None, str | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in people:
        acc = sums[(s.unit, s.department)]
        acc[0] += 1
        acc[1] += s.demands
        acc[2] += s.demands_off_hours
    departments = [DepartmentSenders(u, d, n, dem, off) for (u, d), (n, dem, off) in sums.items()]
    departments.sort(
        key=lambda x: (-x.demands_off_hours, -x.demands, x.unit or "", x.department or "")
    )
    return SendersReport(people, departments, anonymous)
