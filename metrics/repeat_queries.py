"""Repeated demands and short deadlines (rule R6) in a week, from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import BigInteger, Connection, Integer, String, bindparam, text

from metrics.burden import ANONYMOUS, scope_sql
from metrics.calendar import WorkingCalendar, WorkSchedule, week_bounds
from metrics.errors import MetricsError
from metrics.fingerprint import DEFAULT_MAX_DISTANCE, DemandRef, find_repeats
from metrics.models import UTCDateTime
from metrics.working_time import working_hours_between

__all__ = [
    "RepeatFinding",
    "ShortDeadline",
    "full_day_hours",
    "repeated_demands",
    "short_deadlines",
    "working_hours_between",
]


@dataclass(frozen=True, slots=True)
class RepeatFinding:
    """One near-duplicate demand sent through several groups or by several senders (R6)."""

    count: int
    groups: tuple[str, ...]
    senders: tuple[str, ...]  # names, or 匿名 for opted-out senders
    departments: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    rule: str = "R6"


_DEMANDS = """
SELECT m.id, m.group_id, m.sent_at, m.fingerprint, g.name AS group_name,
       si.person_id AS sender, p.name AS sender_name, p.department, p.opted_out,
       CASE WHEN {scope} THEN 1 ELSE 0 END AS in_scope
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people p ON p.id = si.person_id
WHERE m.is_demand AND m.fingerprint IS NOT NULL AND m.sent_at >= :since AND m.sent_at < :end
"""


def repeated_demands(
    conn: Connection,
    week: str,
    tz: str,
    unit: str | None = None,
    *,
    window_days: float = 7,
    max_distance: int = DEFAULT_MAX_DISTANCE,
) -> list[RepeatFinding]:
    """Repeats among demands of the ``window_days`` ending at the week's end, oldest first.

    Clusters come from metrics.fingerprint.find_repeats over every group (a county
    notice re-sent into township groups is the case R6 targets); a cluster is kept
    when it touches one of ``unit``'s groups and its last copy falls in the week, so
    a window longer than a week does not report last week's repeats again. All
    opted-out senders share one key: they are not told apart, and never named.
    """
    if window_days <= 0:
        raise MetricsError(f"repeated_demands: window_days must be positive, got {window_days}")
    start, end = week_bounds(week, tz)
    stmt = text(_DEMANDS.format(scope=scope_sql("g", unit))).columns(
        id=Integer(),
        group_id=Integer(),
        sent_at=UTCDateTime(),
        fingerprint=BigInteger(),
        group_name=String(),
        sender=Integer(),
        sender_name=String(),
        department=String(),
        in_scope=Integer(),
    )
    stmt = stmt.bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    )
    rows = conn.execute(
        stmt, {"since": end - timedelta(days=window_days), "end": end, "unit": unit}
    ).all()
    by_id = {r.id: r for r in rows}

    refs = [
        DemandRef(
            r.id,
            str(r.group_id),
            ANONYMOUS if r.sender is None or r.opted_out else str(r.sender),
            r.sent_at,
            int(r.fingerprint),
        )
        for r in rows
    ]
    out: list[RepeatFinding] = []
    for cluster in find_repeats(refs, window_days=window_days, max_distance=max_distance):
        members = [by_id[ref.message_key] for ref in cluster.refs]
        if cluster.last_at < start or not any(m.in_scope for m in members):
            continue
        named = [m for m in members if m.sender is not None and not m.opted_out]
        senders = sorted({m.sender_name or ANONYMOUS for m in named})
        if len(named) < len(members):
            senders.append(ANONYMOUS)
        out.append(
            RepeatFinding(
                count=len(members),
                groups=tuple(sorted({m.group_name or f"群{m.group_id}" for m in members})),
                senders=tuple(senders),
                departments=tuple(sorted({m.department for m in named if m.department})),
                first_at=cluster.first_at,
                last_at=cluster.last_at,
            )
        )
    return out


def full_day_hours(schedule: WorkSchedule) -> float:
    """Office hours of an ordinary (non-summer) working day under ``schedule``: 7 by default."""

    def hours(span: tuple[time, time]) -> float:
        a, b = (datetime.combine(date(2000, 1, 1), t) for t in span)
        return (b - a).total_seconds() / 3600

    return hours(schedule.morning) + hours(schedule.afternoon)


@dataclass(frozen=True, slots=True)
class ShortDeadline:
    """A demand due in less than one working day's office hours (R6: 上午发表格、下午要数据)."""

    message_id: int
    group: str
    sender: str  # name, or 匿名
    sent_at: datetime
    deadline_at: datetime
    working_hours: float
    rule: str = "R6"


_DEADLINES = """
SELECT m.id, m.sent_at, m.deadline_at, g.name AS group_name, g.id AS group_id,
       p.name AS sender_name, p.opted_out
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people p ON p.id = si.person_id
WHERE m.week = :week AND m.is_demand AND m.deadline_at IS NOT NULL AND {scope}
ORDER BY m.sent_at, m.id
"""


def short_deadlines(
    conn: Connection,
    week: str,
    schedule: WorkSchedule,
    unit: str | None = None,
    *,
    min_hours: float | None = None,
) -> list[ShortDeadline]:
    """Demands of the week whose deadline leaves under ``min_hours`` of office hours.

    "Less than one working day" is measured in office hours between the message and
    its deadline, holidays and 调休 included: by default a full ordinary day of the
    schedule (7 h for 8:30-12:00 and 14:00-17:30). So 16:00 Friday for 10:00 Monday
    (3 h) is short, 09:00 for 09:00 next working day (7 h) is not, and anything
    asked at 21:00 for the next morning's 08:30 (0 h) is short. A deadline not after
    its message is a parse slip, not a demand, and is skipped.
    """
    limit = full_day_hours(schedule) if min_hours is None else min_hours
    cal = WorkingCalendar(schedule)
    stmt = text(_DEADLINES.format(scope=scope_sql("g", unit))).columns(
        id=Integer(),
        sent_at=UTCDateTime(),
        deadline_at=UTCDateTime(),
        group_name=String(),
        group_id=Integer(),
        sender_name=String(),
    )
    out: list[ShortDeadline] = []
    for r in conn.execute(stmt, {"week": week, "unit": unit}).all():
        if r.deadline_at <= r.sent_at:
            continue
        hours = working_hours_between(cal, r.sent_at, r.deadline_at, stop_at=limit)
        if hours < limit:
            named = r.sender_name is not None and not r.opted_out
            out.append(
                ShortDeadline(
                    message_id=r.id,
                    group=r.group_name or f"群{r.group_id}",
                    sender=r.sender_name if named else ANONYMOUS,
                    sent_at=r.sent_at,
                    deadline_at=r.deadline_at,
                    working_hours=round(hours, 2),
                )
            )
    return out
