"""Tests for the Chinese working calendar and its schedule configuration."""

# House style puts the expected value first in asserts; ruff reads that as Yoda.

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.calendar import (
    BAND_LABELS_ZH,
    BANDS,
    DEFAULT_SCHEDULE,
    OFF_HOURS,
    Band,
    WorkingCalendar,
    WorkSchedule,
    iso_week,
    schedule_from_mapping,
    unknown_year_hint,
    week_bounds,
)
from metrics.errors import CalendarError, MetricsError

SHANGHAI = ZoneInfo("Asia/Shanghai")
# chinesecalendar 1.11 knows 2004-2026; 2099 stays unknown in any release.
UNKNOWN_YEAR = 2099


def sh(text: str) -> datetime:
    """An aware Shanghai moment from "YYYY-MM-DD HH:MM"."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 2025-11-12 is a plain Wednesday in the winter schedule.
        ("2025-11-12 06:30", "night"),
        ("2025-11-12 07:00", "evening"),
        ("2025-11-12 08:29", "evening"),
        ("2025-11-12 08:30", "work"),
        ("2025-11-12 10:00", "work"),
        ("2025-11-12 12:00", "lunch"),
        ("2025-11-12 12:30", "lunch"),
        ("2025-11-12 14:00", "work"),
        ("2025-11-12 14:15", "work"),
        ("2025-11-12 17:29", "work"),
        ("2025-11-12 17:30", "evening"),
        ("2025-11-12 17:45", "evening"),
        ("2025-11-12 19:00", "evening"),
        ("2025-11-12 21:59", "evening"),
        ("2025-11-12 22:00", "night"),
        ("2025-11-12 23:30", "night"),
        # 2025-07-16 is a Wednesday in the summer schedule (afternoon 14:30-18:00).
        ("2025-07-16 14:15", "lunch"),
        ("2025-07-16 14:30", "work"),
        ("2025-07-16 17:45", "work"),
        ("2025-07-16 18:00", "evening"),
        # An ordinary weekend, night included: the day kind wins.
        ("2025-11-15 10:00", "weekend"),
        ("2025-11-16 23:30", "weekend"),
        ("2025-11-16 03:00", "weekend"),
        # Statutory holidays: National Day and Spring Festival.
        ("2025-10-01 10:00", "holiday"),
        ("2026-02-17 03:00", "holiday"),
        # National Day falling on a Saturday is a holiday, not a weekend.
        ("2025-10-04 10:00", "holiday"),
        # 调休 make-up working days: a Sunday and a Saturday.
        ("2025-09-28 10:00", "work"),
        ("2025-09-28 23:30", "night"),
        ("2026-02-14 12:30", "lunch"),
        ("2026-02-14 19:00", "evening"),
        # The Monday after a weekend: its early hours are night, not weekend.
        ("2025-11-17 06:30", "night"),
    ],
)
def test_band_default_schedule(moment: str, expected: Band) -> None:
    """Each Shanghai moment falls in the band the default schedule and official calendar give."""
    assert expected == WorkingCalendar().band(sh(moment))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 02:00 UTC is 10:00 in Shanghai on a Wednesday.
        (datetime(2025, 11, 12, 2, 0, tzinfo=UTC), "work"),
        # Friday 16:30 UTC is already Saturday 00:30 in Shanghai.
        (datetime(2025, 11, 14, 16, 30, tzinfo=UTC), "weekend"),
        # 21:00 in New York on Tuesday 30 Sep is 09:00 on 1 Oct in Shanghai.
        (datetime(2025, 9, 30, 21, 0, tzinfo=ZoneInfo("America/New_York")), "holiday"),
        # A fixed offset zone works too: 05:00+01:00 is 12:00 in Shanghai.
        (datetime.fromisoformat("2025-11-12T05:00:00+01:00"), "lunch"),
    ],
)
def test_band_converts_other_time_zones(moment: datetime, expected: Band) -> None:
    """Moments in any zone are read in the schedule's zone before banding."""
    assert expected == WorkingCalendar().band(moment)


def test_band_rejects_naive_moment() -> None:
    """A naive datetime is refused instead of being read in a guessed zone."""
    with pytest.raises(CalendarError, match="no time zone"):
        WorkingCalendar().band(datetime(2025, 11, 12, 10, 0))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 11, 12), "workday"),
        (date(2025, 11, 15), "weekend"),
        (date(2025, 10, 1), "holiday"),
        (date(2026, 2, 17), "holiday"),
        (date(2025, 9, 28), "workday"),
        (date(2026, 2, 14), "workday"),
        (date(2026, 2, 28), "workday"),
    ],
)
def test_day_kind(day: date, expected: str) -> None:
    """day_kind separates workdays (make-up days included), weekends and statutory holidays."""
    calendar = WorkingCalendar()
    assert expected == calendar.day_kind(day)
    assert (expected == "workday") == calendar.is_workday(day)


def test_unknown_year_falls_back_to_monday_to_friday() -> None:
    """A year the package lacks is banded Monday-Friday and remembered as unknown."""
    calendar = WorkingCalendar()
    assert frozenset() == calendar.unknown_years()
    assert "work" == calendar.band(sh(f"{UNKNOWN_YEAR}-06-03 10:00"))
    assert "weekend" == calendar.band(sh(f"{UNKNOWN_YEAR}-06-06 10:00"))
    assert frozenset({UNKNOWN_YEAR}) == calendar.unknown_years()
    assert not calendar.year_known(UNKNOWN_YEAR)
    assert calendar.year_known(2026)


def test_known_years_are_not_reported_unknown() -> None:
    """Banding moments of known years leaves unknown_years empty."""
    calendar = WorkingCalendar()
    calendar.band(sh("2025-10-01 10:00"))
    calendar.band(sh("2026-02-14 10:00"))
    assert frozenset() == calendar.unknown_years()


def test_configured_days_make_an_unknown_year_known() -> None:
    """Once the operator lists days for a year, it uses them and is no longer reported."""
    schedule = schedule_from_mapping(
        {
            "extra_holidays": [f"{UNKNOWN_YEAR}-06-03"],
            "extra_workdays": [f"{UNKNOWN_YEAR}-06-06"],
        }
    )
    calendar = WorkingCalendar(schedule)
    assert "holiday" == calendar.band(sh(f"{UNKNOWN_YEAR}-06-03 10:00"))
    assert "work" == calendar.band(sh(f"{UNKNOWN_YEAR}-06-06 10:00"))
    assert "work" == calendar.band(sh(f"{UNKNOWN_YEAR}-06-04 10:00"))
    assert calendar.year_known(UNKNOWN_YEAR)
    assert frozenset() == calendar.unknown_years()


@pytest.mark.parametrize(
    ("table", "moment", "expected"),
    [
        ({"extra_holidays": ["2025-11-12"]}, "2025-11-12 10:00", "holiday"),
        ({"extra_workdays": ["2025-11-15"]}, "2025-11-15 10:00", "work"),
        # Config overrides the package: a make-up day made a holiday ...
        ({"extra_holidays": ["2025-09-28"]}, "2025-09-28 10:00", "holiday"),
        # ... and a statutory holiday made a workday.
        ({"extra_workdays": ["2025-10-01"]}, "2025-10-01 10:00", "work"),
    ],
)
def test_extra_days_override_package(
    table: dict[str, list[str]], moment: str, expected: Band
) -> None:
    """Configured extra holidays and workdays win over chinesecalendar."""
    assert expected == WorkingCalendar(schedule_from_mapping(table)).band(sh(moment))


def test_schedule_from_toml_table() -> None:
    """A full [schedule] table, with TOML native dates, parses into the expected schedule."""
    table = tomllib.loads(
        """
        [schedule]
        timezone = "Asia/Urumqi"
        morning = "09:00-13:00"
        afternoon = "15:00-18:30"
        summer_afternoon = "15:30-19:30"
        summer_months = [6, 7, 8]
        night = "23:00-06:00"
        extra_holidays = [2026-12-31, "2026-12-30"]
        extra_workdays = []
        """
    )["schedule"]
    expected = WorkSchedule(
        timezone="Asia/Urumqi",
        morning=(time(9), time(13)),
        afternoon=(time(15), time(18, 30)),
        summer_afternoon=(time(15, 30), time(19, 30)),
        summer_months=frozenset({6, 7, 8}),
        night=(time(23), time(6)),
        extra_holidays=frozenset({date(2026, 12, 31), date(2026, 12, 30)}),
        extra_workdays=frozenset(),
    )
    assert expected == schedule_from_mapping(table)


def test_schedule_inherits_missing_keys_from_base() -> None:
    """A unit override lists only what differs; other keys and extra days come from the base."""
    base = schedule_from_mapping(
        {"morning": "09:00-12:00", "extra_holidays": ["2026-12-30", "2026-12-31"]}
    )
    unit = schedule_from_mapping(
        {"night": "23:00-06:00", "extra_workdays": ["2026-12-31"]}, base=base
    )
    assert (time(9), time(12)) == unit.morning
    assert (time(23), time(6)) == unit.night
    assert DEFAULT_SCHEDULE.afternoon == unit.afternoon
    assert frozenset({date(2026, 12, 30)}) == unit.extra_holidays
    assert frozenset({date(2026, 12, 31)}) == unit.extra_workdays


def test_empty_table_gives_base() -> None:
    """An empty table yields the base schedule unchanged."""
    assert DEFAULT_SCHEDULE == schedule_from_mapping({})


def test_custom_schedule_bands() -> None:
    """A custom timezone, hours and a non-wrapping night are honoured."""
    schedule = schedule_from_mapping(
        {
            "timezone": "Europe/Berlin",
            "morning": "09:00-12:00",
            "afternoon": "13:00-17:00",
            "summer_months": [],
            "night": "00:00-06:00",
        }
    )
    calendar = WorkingCalendar(schedule)
    berlin = ZoneInfo("Europe/Berlin")
    assert "work" == calendar.band(datetime(2025, 7, 16, 16, 30, tzinfo=berlin))
    assert "evening" == calendar.band(datetime(2025, 7, 16, 23, 30, tzinfo=berlin))
    assert "night" == calendar.band(datetime(2025, 7, 16, 0, 30, tzinfo=berlin))
    assert "evening" == calendar.band(datetime(2025, 7, 16, 6, 0, tzinfo=berlin))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"morning": "8:30~12"}, '[schedule] morning "8:30~12" 不是 HH:MM-HH:MM 格式'),
        ({"afternoon": "25:00-26:00"}, '[schedule] afternoon "25:00-26:00" 不是有效的时刻'),
        ({"night": 2200}, '[schedule] night "2200" 不是 HH:MM-HH:MM 格式'),
        ({"morning": "12:00-08:30"}, "[schedule] morning 的开始时间 12:00 应早于结束时间 08:30"),
        ({"afternoon": "11:00-17:30"}, "[schedule] afternoon 11:00-17:30 应在上午下班"),
        ({"night": "17:00-07:00"}, "[schedule] night 17:00-07:00 与上班时间 08:30-17:30 重叠"),
        ({"night": "07:00-07:00"}, "[schedule] night 的开始和结束时间不能相同"),
        ({"timezone": "Mars/Olympus"}, '[schedule] timezone "Mars/Olympus" 不是 IANA 时区名'),
        ({"summer_months": [5, 13]}, '[schedule] summer_months "[5, 13]" 不是 1-12 的月份列表'),
        ({"summer_months": "5-9"}, '[schedule] summer_months "5-9" 不是 1-12 的月份列表'),
        ({"extra_holidays": "2026-01-01"}, '[schedule] extra_holidays "2026-01-01" 不是日期列表'),
        (
            {"extra_holidays": ["2026-13-01"]},
            '[schedule] extra_holidays 中的 "2026-13-01" 不是 YYYY-MM-DD 格式的日期',
        ),
        ({"extra_workdays": [20260101]}, '[schedule] extra_workdays 中的 "20260101" 不是'),
        (
            {"extra_workdays": [datetime(2026, 1, 1, 8, 0)]},
            '[schedule] extra_workdays 中的 "2026-01-01 08:00:00" 不是',
        ),
        (
            {"extra_holidays": ["2026-01-01"], "extra_workdays": ["2026-01-01"]},
            "[schedule] 2026-01-01 同时写在 extra_holidays 和 extra_workdays 里",
        ),
        ({"moring": "08:30-12:00"}, "未知配置项 [schedule] moring，是否想写 morning？"),
        ({"lunch": "12:00-14:00"}, "未知配置项 [schedule] lunch；[schedule] 可用的配置项："),
    ],
)
def test_malformed_schedule(table: dict[str, object], message: str) -> None:
    """Bad config raises CalendarError naming the key, the bad value and the expected form."""
    with pytest.raises(CalendarError, match=re.escape(message)) as caught:
        schedule_from_mapping(table)
    assert isinstance(caught.value, MetricsError)


def test_bands_constants() -> None:
    """Every band has a Chinese label and only work is in working hours."""
    assert set(BANDS) == set(BAND_LABELS_ZH)
    assert "工作时间" == BAND_LABELS_ZH["work"]
    assert frozenset(BANDS) - {"work"} == OFF_HOURS


def test_unknown_year_hint() -> None:
    """The hint names the years and shows the config keys to use; nothing to say gives ''."""
    hint = unknown_year_hint([2028, 2027, 2028])
    assert "2027年、2028年" in hint
    assert "[schedule]" in hint
    assert 'extra_holidays = ["2027-' in hint
    assert "extra_workdays" in hint
    assert "" == unknown_year_hint([])


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (datetime(2026, 11, 22, 16, 30, tzinfo=UTC), "Asia/Shanghai", "2026-W48"),
        (datetime(2026, 11, 22, 16, 30, tzinfo=UTC), "UTC", "2026-W47"),
        (datetime(2026, 1, 1, 9, 0, tzinfo=SHANGHAI), "Asia/Shanghai", "2026-W01"),
        (datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI), SHANGHAI, "2026-W53"),
    ],
)
def test_iso_week(moment: datetime, tz: str | ZoneInfo, expected: str) -> None:
    """iso_week reads the moment in local time and formats the ISO year and week."""
    assert expected == iso_week(moment, tz)


def test_week_bounds() -> None:
    """A week string maps to local Monday 00:00 up to the next Monday 00:00."""
    start, end = week_bounds("2026-W48", "Asia/Shanghai")
    assert datetime(2026, 11, 23, tzinfo=SHANGHAI) == start
    assert datetime(2026, 11, 30, tzinfo=SHANGHAI) == end
    assert "2026-W48" == iso_week(start) == iso_week(end - timedelta(microseconds=1))


def test_week_bounds_across_daylight_saving() -> None:
    """In a zone with DST the week is 167 real hours long when clocks go forward."""
    start, end = week_bounds("2026-W13", "Europe/Berlin")
    assert timedelta(hours=167) == end.astimezone(UTC) - start.astimezone(UTC)


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-48", '周 "2026-48" 不是 ISO 周，应写成 "2026-W47" 这样的格式'),
        ("2026-W7", '周 "2026-W7" 不是 ISO 周'),
        ("2026W48", '周 "2026W48" 不是 ISO 周'),
        ("2025-W53", '周 "2025-W53" 不存在：2025 年没有第 53 周'),
        ("2026-W00", '周 "2026-W00" 不存在：2026 年没有第 00 周'),
    ],
)
def test_week_bounds_malformed(week: str, message: str) -> None:
    """A malformed or impossible week string raises a clear CalendarError."""
    with pytest.raises(CalendarError, match=re.escape(message)):
        week_bounds(week)
