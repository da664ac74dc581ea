"""Working time between two moments under a unit's working calendar.

Only office hours of working days count (summer afternoons, make-up workdays and the
operator's extra days included): the short-deadline rule measures deadlines with it, and
acknowledgement linking its window, so "within 24 working hours" does not run out over a
weekend.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from metrics.acks import Elapsed
from metrics.calendar import WorkingCalendar

__all__ = ["working_hours_between", "working_time"]


def working_hours_between(
    cal: WorkingCalendar, start: datetime, end: datetime, *, stop_at: float | None = None
) -> float:
    """Office hours between two aware moments under ``cal``'s schedule and holidays.

    Counting stops once ``stop_at`` hours are reached, so a deadline weeks away
    costs a few days of iteration, not weeks.
    """
    if end <= start:
        return 0.0
    s = cal.schedule
    zone = ZoneInfo(s.timezone)
    a, b = start.astimezone(zone), end.astimezone(zone)
    total = 0.0
    day = a.date()
    while day <= b.date():
        if cal.is_workday(day):
            afternoon = s.summer_afternoon if day.month in s.summer_months else s.afternoon
            for span in (s.morning, afternoon):
                lo = max(a, datetime.combine(day, span[0], tzinfo=zone))
                hi = min(b, datetime.combine(day, span[1], tzinfo=zone))
                if hi > lo:
                    total += (hi - lo).total_seconds() / 3600
        if stop_at is not None and total >= stop_at:
            return total
        day += timedelta(days=1)
    return total


def working_time(calendar: WorkingCalendar) -> Elapsed:
    """A clock for metrics.acks.link_acks that measures ``calendar``'s office hours only."""

    def elapsed(start: datetime, end: datetime) -> timedelta:
        # Whole seconds: float hours carry rounding noise that would blur a window's edge.
        return timedelta(seconds=round(working_hours_between(calendar, start, end) * 3600))

    return elapsed
