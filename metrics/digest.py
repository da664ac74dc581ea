"""The weekly digest for a unit head: figures gathered from the database, rendered in Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from metrics.calendar import WorkingCalendar, WorkSchedule, unknown_year_hint, week_bounds
from metrics.queries import PersonWeek, WeekTotals, monitored_groups, person_week, week_totals
from metrics.rules import RULES


@dataclass(frozen=True, slots=True)
class DigestData:
    unit: str | None
    week: str
    first_day: date
    last_day: date
    groups_monitored: int
    people: list[PersonWeek]
    totals: WeekTotals
    unknown_years: frozenset[int]

    @property
    def heaviest(self) -> list[PersonWeek]:
        return sorted(
            self.people,
            key=lambda p: (-(p.pings_off_hours + p.demands_off_hours), -p.received_off_hours, p.name),
        )


def build_digest(
    conn: Connection, week: str, schedule: WorkSchedule, unit: str | None = None
) -> DigestData:
    start, end = week_bounds(week, schedule.timezone)
    first = start.date()
    last = (end - timedelta(days=1)).date()
    cal = WorkingCalendar(schedule)
    for offset in range(7):
        cal.day_kind(first + timedelta(days=offset))
    return DigestData(
        unit=unit,
        week=week,
        first_day=first,
        last_day=last,
        groups_monitored=monitored_groups(conn, week, schedule.timezone, unit),
        people=person_week(conn, week, schedule.timezone, unit),
        totals=week_totals(conn, week, unit),
        unknown_years=cal.unknown_years(),
    )


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def render_digest(d: DigestData, top_n: int = 5) -> str:
    """The digest as one phone-sized WeChat message."""
    year, wk = d.week.split("-W")
    title = d.unit or "全部单位"
    lines = [
        f"【减负周报】{title} · {year}年第{int(wk)}周"
        f"（{d.first_day.month}月{d.first_day.day}日—{d.last_day.month}月{d.last_day.day}日）"
    ]
    if not d.people:
        lines.append("本周没有统计到数据：还没有工作群同意记录，或本单位成员尚未出现在已同意的群中。")
        return "\n".join(lines)
    counts = [p.groups for p in d.people]
    biggest = max(d.people, key=lambda p: (p.groups, p.name))
    t = d.totals
    lines += [
        f"监测工作群 {d.groups_monitored} 个，覆盖 {len(d.people)} 人；"
        f"人均所在群 {sum(counts) / len(counts):.1f} 个，最多 {biggest.groups} 个（{biggest.name}）。",
        f"共 {t.messages} 条消息，非工作时间 {t.off_hours} 条（{_pct(t.off_hours, t.messages)}），"
        f"其中 @所有人 {t.mention_all_off_hours} 条；提出要求 {t.demands} 条，"
        f"非工作时间 {t.demands_off_hours} 条。",
        f"非工作时间 @个人 共 {sum(p.pings_off_hours for p in d.people)} 次。",
    ]
    heavy = [p for p in d.heaviest if p.received_off_hours or p.pings_off_hours][:top_n]
    if heavy:
        lines.append("负担最重：")
        for i, p in enumerate(heavy, 1):
            lines.append(
                f"{i}. {p.name}：{p.groups} 个群，非工作时间收到 {p.received_off_hours} 条，"
                f"被@ {p.pings_off_hours} 次，@所有人 {p.pings_all_off_hours} 次"
            )
    lines.append(f"依据：{RULES['R1'].citation}；{RULES['R2'].citation}")
    if d.unknown_years:
        lines.append(unknown_year_hint(d.unknown_years))
    lines.append("详情：jianfu digest --week " + d.week + (f" --unit {d.unit}" if d.unit else ""))
    return "\n".join(lines)
