"""Reads the State Council's annual holiday notice into days off and make-up working days.

The notice (国务院办公厅关于YYYY年部分节假日安排的通知) is pasted by an operator from a news
site, so the reader accepts what such copies look like (traditional characters, full-width
digits, wrapped lines, 至/～/— ranges, 周四/星期四 notes) and refuses, naming the line, anything
it cannot read for certain: a wrong calendar is worse than none, because it looks right.

``holidays`` are the days the notice lists as off, whole ranges included, so a Saturday inside
"1月28日至2月4日" is a holiday; "与周末连休" names no days and adds none. ``workdays`` are the
调休 make-up working days. Both may hold a late-December day of the year before (2019's notice
starts 元旦 on 2018-12-30); they are part of the notice all the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from metrics.calendar_notice_text import (
    ADVICE,
    ARRANGES,
    BODY_YEAR,
    SENTENCE_SPLIT,
    TITLE,
    TOKEN,
    WEEKDAY_INDEX,
    WEEKDAY_NOTE,
    WEEKDAY_ZH,
    display,
    logical_lines,
    section_head,
)
from metrics.errors import MetricsError

__all__ = ["HolidayNotice", "NoticeError", "parse_notice", "to_json", "to_toml"]

# Longest stretch one written range may cover; 2020's extended Spring Festival was 10 days.
_MAX_RANGE_DAYS = 31


class NoticeError(MetricsError):
    """A holiday notice the reader cannot read for certain; ``line`` is 1-based, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"第{line}行：{message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True)
class HolidayNotice:
    """The days one annual notice arranges, each tuple sorted."""

    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    festivals: tuple[tuple[str, tuple[date, ...]], ...]
    title: str = ""


@dataclass(frozen=True)
class _Written:
    """One date as written: year and month may be left to the context."""

    year: int | None
    month: int | None
    day: int
    weekdays: tuple[int, ...]

    @classmethod
    def of(cls, match: re.Match[str], p: str) -> _Written:
        y, m, note = match[f"{p}y"], match[f"{p}m"], match[f"{p}n"] or ""
        notes = tuple(WEEKDAY_INDEX[w] for w in WEEKDAY_NOTE.findall(note))
        return cls(int(y) if y else None, int(m) if m else None, int(match[f"{p}d"]), notes)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class _Reader:
    """Reads the sections of one notice; ``line`` is the logical line being read, for errors."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.line = 0

    def fail(self, message: str) -> NoticeError:
        return NoticeError(display(message), self.line)

    def section(self, name: str, body: str, line: str) -> tuple[list[date], list[date]]:
        off: list[date] = []
        work: list[date] = []
        for sentence in SENTENCE_SPLIT.split(body):
            s_off, s_work = self.sentence(sentence)
            off += s_off
            work += s_work
        if not off:
            raise self.fail(f"读不出{name or '这一条'}的放假日期：“{_short(line)}”")
        return off, work

    def sentence(self, text: str) -> tuple[list[date], list[date]]:
        """Dates before 放假/补休/… are days off, dates before 上班 are make-up workdays."""
        off: list[date] = []
        work: list[date] = []
        if ADVICE.match(text) or (ARRANGES.search(text) is None and not text[:1].isdigit()):
            return off, work
        pending: list[date] = []
        last: date | None = None
        for match in TOKEN.finditer(text):
            if match["range"] or match["single"]:
                days = self.written(match, last)
                pending += days
                last = days[-1]
            elif match["work"]:
                for day in pending:
                    if day.weekday() < 5:
                        raise self.fail(
                            f"{day.isoformat()}是{WEEKDAY_ZH[day.weekday()]}，本来就要上班，"
                            f"不是调休上班日：“{_short(text)}”"
                        )
                work += pending
                pending = []
            else:
                if match["off"] or match["off_n"]:
                    off += pending
                    pending = []
                if match["count"] and off and int(match["count"]) != len(set(off)):
                    raise self.fail(
                        f"写的是{match['count']}天，但列出的放假日期有{len(set(off))}天："
                        f"“{_short(text)}”"
                    )
        if pending:
            raise self.fail(f"读不出这些日期是放假还是上班：“{_short(text)}”")
        return off, work

    def written(self, match: re.Match[str], last: date | None) -> list[date]:
        """The days of one written date or range."""
        ranged = bool(match["range"])
        start = _Written.of(match, "a" if ranged else "s")
        end = _Written.of(match, "b") if ranged else None
        text = match.group(0)
        if start.year is not None or start.month != 12:
            return self.days(start, end, self.year, last, text)
        # A December day without a year can only be the run-up to 元旦 of the notice's year, but
        # only a weekday note can tell 2018-12-29 from 2019-12-29 without guessing.
        if not start.weekdays and not (end and end.weekdays):
            raise self.fail(f"“{text}”是12月的日期，但没有写年份；请写成“{self.year - 1}年12月…”")
        errors: list[NoticeError] = []
        for candidate in (self.year - 1, self.year):
            try:
                return self.days(start, end, candidate, last, text)
            except NoticeError as exc:
                errors.append(exc)
        raise errors[0]

    def days(
        self, start: _Written, end: _Written | None, year: int, last: date | None, text: str
    ) -> list[date]:
        if start.month is None:
            if last is None or start.year is not None:
                raise self.fail(f"“{text}”没有写月份")
            first = self.day(start, last.year, last.month, text)
        else:
            first = self.day(start, start.year or year, start.month, text)
        if end is None:
            return [first]
        month = end.month or first.month
        # Only December runs on into January of the next year; any other fall is a typo.
        wraps = first.month == 12 and month == 1
        final = self.day(end, end.year or first.year + wraps, month, text)
        if final < first:
            raise self.fail(f"日期范围“{text}”的结束日早于开始日")
        span = (final - first).days + 1
        if span > _MAX_RANGE_DAYS:
            raise self.fail(f"日期范围“{text}”长达{span}天，不像一段假期")
        return [first + timedelta(days=n) for n in range(span)]

    def day(self, written: _Written, year: int, month: int, text: str) -> date:
        try:
            day = date(year, month, written.day)
        except ValueError:
            raise self.fail(f"{year}年{month}月{written.day}日不存在：“{text}”") from None
        in_notice = (
            day.year == self.year
            or (day.year == self.year - 1 and day.month == 12)
            or (day.year == self.year + 1 and day.month == 1)
        )
        if not in_notice:
            raise self.fail(f"{day.isoformat()}不在{self.year}年的放假安排之内：“{text}”")
        for weekday in written.weekdays:
            if weekday != day.weekday():
                raise self.fail(
                    f"“{text}”中写的是{WEEKDAY_ZH[weekday]}，但{year}年{month}月{day.day}日"
                    f"是{WEEKDAY_ZH[day.weekday()]}，请核对日期和年份"
                )
        return day


def _notice_year(lines: list[tuple[int, str]], year: int | None) -> tuple[str, int]:
    """The notice's title (or "") and its year: as given, else from the title or the body."""
    title = next(((n, m) for n, line in lines if (m := TITLE.search(line))), None)
    body = next(((n, m) for n, line in lines if (m := BODY_YEAR.search(line))), None)
    title_text = title[1].group(0) if title else ""
    if year is None:
        if title and body and title[1].group(1) != body[1].group(1):
            raise NoticeError(
                f"正文写的是{body[1].group(1)}年，标题写的是{title[1].group(1)}年", body[0]
            )
        found = title or body
        if found is None:
            raise NoticeError(
                "找不到通知的年份：标题应为“国务院办公厅关于YYYY年部分节假日安排的通知”，"
                "或正文写明“现将YYYY年……”；也可以直接指定年份"
            )
        year = int(found[1].group(1))
    if not 1900 <= year <= 2199:
        raise NoticeError(f"{year}年不像放假通知的年份")
    return title_text, year


def parse_notice(text: str, year: int | None = None) -> HolidayNotice:
    """Read a pasted notice; ``year`` overrides or supplies the year of its title."""
    lines = logical_lines(text)
    title, notice_year = _notice_year(lines, year)
    reader = _Reader(notice_year)
    festivals: list[tuple[str, tuple[date, ...]]] = []
    holidays: set[date] = set()
    workdays: set[date] = set()
    for number, line in lines:
        head = section_head(line)
        if head is None:
            continue
        reader.line = number
        off, work = reader.section(*head, line)
        both = sorted((holidays | set(off)) & (workdays | set(work)))
        if both:
            raise reader.fail(f"{both[0].isoformat()}既写成放假又写成上班")
        holidays.update(off)
        workdays.update(work)
        festivals.append((head[0], tuple(sorted(set(off)))))
    if not festivals:
        raise NoticeError("没有找到放假安排：通知中应有“一、元旦：1月1日放假……”这样的条目")
    return HolidayNotice(
        notice_year, tuple(sorted(holidays)), tuple(sorted(workdays)), tuple(festivals), title
    )


def _comment(text: str) -> str:
    # TOML comments may not hold control characters; a pasted name could.
    return "".join(c for c in text if c.isprintable())


def to_toml(notice: HolidayNotice) -> str:
    """The ``[calendar.YYYY]`` table for the config, one ISO date per element, commented."""
    names: dict[date, str] = {}
    for name, days in notice.festivals:
        for day in days:
            names.setdefault(day, _comment(name))
    source = notice.title or f"{notice.year}年部分节假日安排（粘贴的文本中没有通知标题）"
    out = [f"# 来源：{source}"]
    outside = sorted(d for d in (*notice.holidays, *notice.workdays) if d.year != notice.year)
    if outside:
        listed = "、".join(d.isoformat() for d in outside)
        out.append(f"# 其中 {listed} 不在{notice.year}年内，但由这份通知安排")
    out.append(f"[calendar.{notice.year}]")
    holidays = [(d, f"{names.get(d, '')}，{WEEKDAY_ZH[d.weekday()]}") for d in notice.holidays]
    workdays = [(d, f"{WEEKDAY_ZH[d.weekday()]}调休上班") for d in notice.workdays]
    out += _toml_array("holidays", holidays) + _toml_array("workdays", workdays)
    return "\n".join(out) + "\n"


def _toml_array(key: str, days: list[tuple[date, str]]) -> list[str]:
    """``key = [...]`` with one date per line and a comment saying what the day is."""
    if not days:
        return [f"{key} = []"]
    return [f"{key} = [", *(f'    "{d.isoformat()}",  # {note}' for d, note in days), "]"]


def to_json(notice: HolidayNotice) -> str:
    """``{"year": …, "holidays": [...], "workdays": [...]}`` with ISO dates."""
    data = {
        "year": notice.year,
        "holidays": [d.isoformat() for d in notice.holidays],
        "workdays": [d.isoformat() for d in notice.workdays],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
