"""A cadre's own figures for the current week (the 我的负担 command)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from metrics.burden import person_ack_load, personal_ack_lines
from metrics.calendar import WorkSchedule, iso_week
from metrics.queries import person_week


def personal_summary(
    conn: Connection, person_id: int, now: datetime, schedule: WorkSchedule
) -> str:
    """Only this person's figures; nothing about anyone else."""
    week = iso_week(now, schedule.timezone)
    mine = next(
        (p for p in person_week(conn, week, schedule.timezone) if p.person_id == person_id), None
    )
    year, wk = week.split("-W")
    head = f"您本周（{year}年第{int(wk)}周，截至目前）的工作群负担："
    if mine is None:
        return head + "\n暂无数据：您所在的群尚未同意记录，或您已退出统计。"
    lines = [
        head,
        f"· 所在已统计工作群 {mine.groups} 个",
        f"· 收到消息 {mine.received} 条，其中非工作时间 {mine.received_off_hours} 条",
        f"· 非工作时间被@ {mine.pings_off_hours} 次，@所有人 {mine.pings_all_off_hours} 次",
        f"· 群内提出的要求 {mine.demands} 条，其中非工作时间 {mine.demands_off_hours} 条",
    ]
    lines += personal_ack_lines(person_ack_load(conn, person_id, week, schedule.timezone))
    if mine.self_reported_groups is not None:
        lines.append(
            f"· 您自报共在 {mine.self_reported_groups} 个工作群（助手统计到 {mine.groups} 个）"
        )
    return "\n".join(lines)
