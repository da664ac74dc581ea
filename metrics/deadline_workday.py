"""PRC working-day arithmetic for deadlines (下个工作日, 节后第一个工作日, 节前最后一个工作日)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import chinese_calendar

# How far to look for the next statutory holiday; the longest gap (National Day to New Year's
# Day, or New Year's Day to Spring Festival) is well under this.
_HORIZON: Final = 400


def is_workday(day: date) -> bool:
    """Tell whether ``day`` is a working day; Mon-Fri for a year chinesecalendar does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def is_statutory_holiday(day: date) -> bool:
    """Tell whether ``day`` is a named public holiday; weekends stand in for an unknown year."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return day.weekday() >= 5
    return bool(on_holiday and name)


def next_workday(day: date) -> date:
    """Return the first working day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    for _ in range(_HORIZON):
        if is_workday(candidate):
            return candidate
        candidate += timedelta(days=1)
    return candidate


def first_workday_after_holiday(day: date) -> date:
    """Return the first working day after the holiday that contains or next follows ``day``."""
    holiday = _next_holiday(day, include_today=True)
    if holiday is None:
        return next_workday(day)
    candidate = holiday
    while not is_workday(candidate):
        candidate += timedelta(days=1)
    return candidate


def last_workday_before_holiday(day: date) -> date:
    """Return the last working day before the next holiday after ``day`` (possibly ``day``)."""
    holiday = _next_holiday(day, include_today=False)
    if holiday is None:
        return day
    candidate = holiday - timedelta(days=1)
    while not is_workday(candidate) and candidate > day:
        candidate -= timedelta(days=1)
    return candidate


def _next_holiday(day: date, *, include_today: bool) -> date | None:
    candidate = day if include_today else day + timedelta(days=1)
    for _ in range(_HORIZON):
        if is_statutory_holiday(candidate):
            return candidate
        candidate += timedelta(days=1)
    return None
