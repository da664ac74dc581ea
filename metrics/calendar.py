"""The Chinese working calendar: which time band (work, lunch, evening, ...) a moment falls in.

Day kinds come from the ``chinesecalendar`` package (statutory holidays and 调休
make-up workdays), overridden by the operator's ``extra_holidays`` / ``extra_workdays``.
The calendar date of the moment, in the schedule's time zone, decides the day kind,
and the day kind wins over the clock: 23:30 on a Sunday is ``weekend``, not ``night``,
while 06:30 on a Monday (or a make-up working Sunday) is ``night``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from difflib import get_close_matches
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from metrics.errors import CalendarError

__all__ = [
    "BANDS",
    "BAND_LABELS_ZH",
    "DEFAULT_SCHEDULE",
    "OFF_HOURS",
    "Band",
    "CalendarError",
    "DayKind",
    "WorkSchedule",
    "WorkingCalendar",
    "iso_week",
    "schedule_from_mapping",
    "unknown_year_hint",
    "week_bounds",
]

Band = Literal["work", "lunch", "evening", "night", "weekend", "holiday"]
DayKind = Literal["workday", "weekend", "holiday"]
Span = tuple[time, time]

BANDS: tuple[Band, ...] = ("work", "lunch", "evening", "night", "weekend", "holiday")
BAND_LABELS_ZH: dict[Band, str] = {
    "work": "工作时间",
    "lunch": "午休",
    "evening": "晚间",
    "night": "深夜",
    "weekend": "周末",
    "holiday": "节假日",
}
OFF_HOURS: frozenset[Band] = frozenset(BANDS) - {"work"}


def _zone(name: str, key: str) -> ZoneInfo:
    """The ZoneInfo for ``name``, or a CalendarError naming the config key."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CalendarError(
            f'{key} "{name}" 不是 IANA 时区名，应写成 "Asia/Shanghai" 这样的名称'
        ) from exc


def _night_overlaps(night: Span, start: time, end: time) -> bool:
    """Whether the night span (which may wrap past midnight) meets [start, end)."""
    n_start, n_end = night
    if n_start < n_end:
        return n_start < end and start < n_end
    return start < n_end or end > n_start


@dataclass(frozen=True)
class WorkSchedule:
    """A unit's office hours; spans are [start, end) in local time of ``timezone``."""

    timezone: str = "Asia/Shanghai"
    morning: Span = (time(8, 30), time(12, 0))
    afternoon: Span = (time(14, 0), time(17, 30))
    summer_afternoon: Span = (time(14, 30), time(18, 0))
    summer_months: frozenset[int] = frozenset({5, 6, 7, 8, 9})
    night: Span = (time(22, 0), time(7, 0))
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Checked here, not only in the parser, so a schedule built in code
        # cannot silently give overlapping bands.
        _zone(self.timezone, "[schedule] timezone")
        m_start, m_end = self.morning
        if not m_start < m_end:
            raise CalendarError(
                f"[schedule] morning 的开始时间 {m_start:%H:%M} 应早于结束时间 {m_end:%H:%M}"
            )
        if self.night[0] == self.night[1]:
            raise CalendarError("[schedule] night 的开始和结束时间不能相同")
        for key in ("afternoon", "summer_afternoon"):
            a_start, a_end = getattr(self, key)
            if not m_end <= a_start < a_end:
                raise CalendarError(
                    f"[schedule] {key} {a_start:%H:%M}-{a_end:%H:%M} 应在上午下班"
                    f"（{m_end:%H:%M}）之后开始，且结束晚于开始"
                )
            if _night_overlaps(self.night, m_start, a_end):
                raise CalendarError(
                    f"[schedule] night {self.night[0]:%H:%M}-{self.night[1]:%H:%M}"
                    f" 与上班时间 {m_start:%H:%M}-{a_end:%H:%M} 重叠"
                )
        bad_months = sorted(m for m in self.summer_months if not 1 <= m <= 12)
        if bad_months:
            raise CalendarError(f"[schedule] summer_months 中的 {bad_months} 不是 1-12 月")
        both = sorted(self.extra_holidays & self.extra_workdays)
        if both:
            listed = "、".join(d.isoformat() for d in both)
            raise CalendarError(f"[schedule] {listed} 同时写在 extra_holidays 和 extra_workdays 里")


DEFAULT_SCHEDULE = WorkSchedule()

_SPAN_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SPAN_KEYS = ("morning", "afternoon", "summer_afternoon", "night")
_KNOWN_KEYS = frozenset({"timezone", "summer_months", "extra_holidays", "extra_workdays"})


def _parse_span(value: Any, key: str) -> Span:
    """Parse "HH:MM-HH:MM" into a pair of times."""
    match = _SPAN_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise CalendarError(f'{key} "{value}" 不是 HH:MM-HH:MM 格式，例如 "08:30-12:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise CalendarError(f'{key} "{value}" 不是有效的时刻') from exc


def _parse_days(value: Any, key: str) -> frozenset[date]:
    """Parse a list of "YYYY-MM-DD" strings or TOML dates."""
    if not isinstance(value, list | tuple):
        raise CalendarError(f'{key} "{value}" 不是日期列表，应写成 ["YYYY-MM-DD", ...]')
    days: set[date] = set()
    for item in value:
        # datetime is a subclass of date; a moment is not a day.
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        problem = f'{key} 中的 "{item}" 不是 YYYY-MM-DD 格式的日期'
        if not isinstance(item, str):
            raise CalendarError(problem)
        try:
            days.add(date.fromisoformat(item))
        except ValueError as exc:
            raise CalendarError(problem) from exc
    return frozenset(days)


def _parse_months(value: Any, key: str) -> frozenset[int]:
    """Parse a list of month numbers 1-12."""
    ok = isinstance(value, list | tuple) and all(
        isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in value
    )
    if not ok:
        raise CalendarError(f'{key} "{value}" 不是 1-12 的月份列表，例如 [5, 6, 7, 8, 9]')
    return frozenset(value)


def schedule_from_mapping(
    data: Mapping[str, Any], base: WorkSchedule = DEFAULT_SCHEDULE, section: str = "[schedule]"
) -> WorkSchedule:
    """Build a schedule from a TOML ``[schedule]`` table; keys it lacks come from ``base``.

    Extra days add to the base's, so a unit table can add a local holiday without
    repeating the national ones; a day the table lists on the other list moves over.
    ``section`` is how messages name the table (``[units.schedule]`` for a unit's).
    """
    known = sorted(_KNOWN_KEYS | set(_SPAN_KEYS))
    for name in data:
        if name not in known:
            close = get_close_matches(name, known, n=1, cutoff=0.6)
            if close:
                raise CalendarError(f"未知配置项 {section} {name}，是否想写 {close[0]}？")
            raise CalendarError(
                f"未知配置项 {section} {name}；{section} 可用的配置项：{'、'.join(known)}"
            )
    changes: dict[str, Any] = {}
    if "timezone" in data:
        if not isinstance(data["timezone"], str):
            raise CalendarError(f'{section} timezone "{data["timezone"]}" 不是时区名')
        _zone(data["timezone"], f"{section} timezone")
        changes["timezone"] = data["timezone"]
    for key in _SPAN_KEYS:
        if key in data:
            changes[key] = _parse_span(data[key], f"{section} {key}")
    if "summer_months" in data:
        changes["summer_months"] = _parse_months(data["summer_months"], f"{section} summer_months")
    holidays = _parse_days(data.get("extra_holidays", []), f"{section} extra_holidays")
    workdays = _parse_days(data.get("extra_workdays", []), f"{section} extra_workdays")
    changes["extra_holidays"] = (base.extra_holidays - workdays) | holidays
    changes["extra_workdays"] = (base.extra_workdays - holidays) | workdays
    return replace(base, **changes)


@dataclass(frozen=True, slots=True)
class _Day:
    """What band() needs to know about one calendar date, computed once."""

    kind: DayKind
    morning: Span
    afternoon: Span


class WorkingCalendar:
    """Classifies moments into bands under one schedule; caches per-date lookups."""

    def __init__(self, schedule: WorkSchedule = DEFAULT_SCHEDULE) -> None:
        self.schedule = schedule
        self._tz = ZoneInfo(schedule.timezone)
        self._days: dict[date, _Day] = {}
        self._package_years: dict[int, bool] = {}
        self._unknown: set[int] = set()
        self._configured_years = frozenset(
            d.year for d in schedule.extra_holidays | schedule.extra_workdays
        )
        night_start, night_end = schedule.night
        self._night_wraps = night_start > night_end

    def band(self, moment: datetime) -> Band:
        """The band of an aware moment, read in the schedule's time zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CalendarError(f"moment {moment.isoformat()} has no time zone")
        local = moment.astimezone(self._tz)
        day = self._days.get(local.date()) or self._day(local.date())
        if day.kind != "workday":
            return day.kind
        t = local.time()
        if day.morning[0] <= t < day.morning[1] or day.afternoon[0] <= t < day.afternoon[1]:
            return "work"
        if day.morning[1] <= t < day.afternoon[0]:
            return "lunch"
        n_start, n_end = self.schedule.night
        in_night = (t >= n_start or t < n_end) if self._night_wraps else n_start <= t < n_end
        return "night" if in_night else "evening"

    def is_workday(self, day: date) -> bool:
        """Whether people are due at the office that day (make-up workdays included)."""
        return self.day_kind(day) == "workday"

    def day_kind(self, day: date) -> DayKind:
        """workday, weekend or holiday (a statutory holiday, or a configured one)."""
        return self._day(day).kind

    def year_known(self, year: int) -> bool:
        """Whether the package knows the year's holidays, or the config lists days in it."""
        return year in self._configured_years or self._package_knows(year)

    def unknown_years(self) -> frozenset[int]:
        """Years met so far whose days were guessed as Monday-Friday workdays."""
        return frozenset(self._unknown)

    def _package_knows(self, year: int) -> bool:
        known = self._package_years.get(year)
        if known is None:
            try:
                chinese_calendar.get_holiday_detail(date(year, 1, 1))
                known = True
            except NotImplementedError:
                known = False
            self._package_years[year] = known
        return known

    def _day(self, day: date) -> _Day:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        kind = self._kind(day)
        s = self.schedule
        afternoon = s.summer_afternoon if day.month in s.summer_months else s.afternoon
        result = _Day(kind, s.morning, afternoon)
        self._days[day] = result
        return result

    def _kind(self, day: date) -> DayKind:
        if day in self.schedule.extra_workdays:
            return "workday"
        if day in self.schedule.extra_holidays:
            return "holiday"
        if not self.year_known(day.year):
            self._unknown.add(day.year)
        if not self._package_knows(day.year):
            return "workday" if day.weekday() < 5 else "weekend"
        off, name = chinese_calendar.get_holiday_detail(day)
        if not off:
            return "workday"
        # The package names both statutory holidays and make-up days; an
        # ordinary weekend day has no name.
        return "holiday" if name else "weekend"


def unknown_year_hint(years: Iterable[int]) -> str:
    """Chinese text telling the operator which years' holidays were guessed and how to add them."""
    ordered = sorted(set(years))
    if not ordered:
        return ""
    listed = "、".join(f"{y}年" for y in ordered)
    y = ordered[0]
    return (
        f"日历数据中没有{listed}的法定节假日和调休安排，这些日期暂按周一至周五上班、周六周日休息计算，"
        f"节假日和调休上班日可能统计有误。请升级 chinesecalendar 软件包，"
        f"或按国务院办公厅的放假通知在配置文件的 [schedule] 中补充放假日和调休上班日"
        f"（以下日期仅为写法示例）：\n"
        f'extra_holidays = ["{y}-01-01", "{y}-10-01"]\n'
        f'extra_workdays = ["{y}-09-26"]'
    )


_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def _tzinfo(tz: str | tzinfo) -> tzinfo:
    return _zone(tz, "时区") if isinstance(tz, str) else tz


def iso_week(moment: datetime, tz: str | tzinfo = DEFAULT_SCHEDULE.timezone) -> str:
    """The ISO week ("2026-W47") an aware moment falls in, in local time of ``tz``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"moment {moment.isoformat()} has no time zone")
    year, week, _ = moment.astimezone(_tzinfo(tz)).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(
    week: str, tz: str | tzinfo = DEFAULT_SCHEDULE.timezone
) -> tuple[datetime, datetime]:
    """Aware [Monday 00:00, next Monday 00:00) in local time of ``tz`` for an ISO week string."""
    match = _WEEK_RE.match(week) if isinstance(week, str) else None
    if match is None:
        raise CalendarError(f'周 "{week}" 不是 ISO 周，应写成 "2026-W47" 这样的格式')
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise CalendarError(f'周 "{week}" 不存在：{match[1]} 年没有第 {match[2]} 周') from exc
    zone = _tzinfo(tz)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start, end
