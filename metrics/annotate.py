"""Turns one message's text and time into the metadata jianfu stores (no text kept)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from metrics.calendar import DEFAULT_SCHEDULE, WorkingCalendar, WorkSchedule, iso_week
from metrics.classifier import classify, mentions_everyone
from metrics.fingerprint import fingerprint


@dataclass(frozen=True, slots=True)
class Annotation:
    labels: tuple[str, ...]
    is_demand: bool
    is_ack: bool
    deadline: datetime | None
    band: str
    week: str
    mention_all: bool
    fingerprint: int | None  # only for demands: repeated requests are found by it


class Annotator:
    """Classifies and places messages in time, with one calendar per unit schedule."""

    def __init__(
        self,
        default: WorkSchedule = DEFAULT_SCHEDULE,
        per_unit: Mapping[str, WorkSchedule] | None = None,
    ) -> None:
        self.default = WorkingCalendar(default)
        self._calendars: dict[WorkSchedule, WorkingCalendar] = {default: self.default}
        self._per_unit: dict[str, WorkingCalendar] = {}
        for unit, schedule in (per_unit or {}).items():
            if schedule not in self._calendars:
                self._calendars[schedule] = WorkingCalendar(schedule)
            self._per_unit[unit] = self._calendars[schedule]

    def calendar(self, unit: str | None) -> WorkingCalendar:
        return self._per_unit.get(unit, self.default) if unit else self.default

    def annotate(
        self, text: str, at: datetime, mention_all: bool = False, unit: str | None = None
    ) -> Annotation:
        cal = self.calendar(unit)
        tz = cal.schedule.timezone
        local = at.astimezone(ZoneInfo(tz))
        everyone = mention_all or mentions_everyone(text)
        c = classify(text, local, everyone)
        return Annotation(
            labels=c.labels,
            is_demand=c.is_demand,
            is_ack="ack_reply" in c.labels,
            deadline=c.deadline,
            band=cal.band(at),
            week=iso_week(at, tz),
            mention_all=everyone,
            fingerprint=fingerprint(text) if c.is_demand else None,
        )
